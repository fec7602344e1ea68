// The session around a run (src/session/run-session.ts): the run's record is complete
// before any connection is closed, so a controller killed while a connection to a silent host
// is being torn down still leaves result.json and report.md behind.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { UnattendedStrategy } from '../../src/engine/strategy.js';
import type { Host } from '../../src/inventory/types.js';
import { createRunDir } from '../../src/journal/run-dir.js';
import { runSession } from '../../src/session/run-session.js';
import { FakeFleet, planOf, tempDir } from '../engine/helpers.js';

describe('runSession', () => {
  test('writes result.json and report.md before it closes the connections', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: look and hand over
steps:
  - id: look
    name: look
    hosts: mp1
    run: look
  - id: over
    name: over
    outcome: { status: escalate, message: people decide }
`);
    const fleet = new FakeFleet();
    const runDir = createRunDir({ runbook: plan.runbook, runDir: join(tempDir(), 'run') });
    const atClose: Record<string, boolean> = {};
    const { result } = await runSession({
      plan,
      inventory,
      strategy: new UnattendedStrategy({ yes: true, operator: 'tester' }),
      runDir,
      runId: 'run-1',
      session: { forks: 5, output: 'jsonl' },
      transports: {
        get: (host: Host) => fleet.get(host),
        closeAll: async () => {
          atClose.result = existsSync(runDir.result);
          atClose.report = existsSync(runDir.report);
        },
      },
    });
    expect(result.exitCode).toBe(3);
    expect(atClose).toEqual({ result: true, report: true });
  });
});
