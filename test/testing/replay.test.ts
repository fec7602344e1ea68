// A recorded run as a test case: a run directory written the way `remedy run` writes one (the
// journal, outputs/, inputs.json), turned into a case that passes against the same runbook and
// that names every decision that changed once the runbook is edited.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { executePlan } from '../../src/engine/executor.js';
import { UnattendedStrategy } from '../../src/engine/strategy.js';
import { loadInventory } from '../../src/inventory/load.js';
import { JournalSink } from '../../src/journal/journal.js';
import { createRunDir, makeRunInputs, writeRunInputs } from '../../src/journal/run-dir.js';
import { planRunbook } from '../../src/plan/index.js';
import { Redactor } from '../../src/redact/redactor.js';
import { loadRunbook } from '../../src/runbook/index.js';
import { loadTestFile } from '../../src/testing/load.js';
import { recordCase, replayRun } from '../../src/testing/replay.js';
import { FakeClock, ReplyBook, ScriptedFleet, StepTracker } from '../../src/testing/scripted-transport.js';
import { runFileCases } from '../../src/testing/suite.js';
import { miniProject, removeMiniProjects } from './helpers.js';

afterAll(removeMiniProjects);

/** A finished run of mini.yaml in `dir`, hosts answering as `returns` says. */
async function recordedRun(dir: string, returns: Record<string, unknown>, yes = true): Promise<string> {
  const runbookFile = join(dir, 'mini.yaml');
  const inventoryFile = join(dir, 'inventory.yaml');
  const { loaded } = loadRunbook(runbookFile);
  const inventory = loadInventory(inventoryFile);
  const overrides = { port: '9090' };
  const plan = planRunbook({ loaded, inventory, overrides });
  const runDir = createRunDir({ runbook: plan.runbook, runDir: join(dir, 'run') });
  writeRunInputs(
    runDir,
    makeRunInputs({
      runbook: runbookFile,
      runbookFile,
      inventory: inventoryFile,
      overrides,
      secretParams: [],
      planHash: plan.planHash,
      options: { mode: 'unattended', yes },
    }),
  );
  const journal = new JournalSink(runDir.path, new Redactor([]));
  const tracker = new StepTracker();
  const clock = new FakeClock();
  await executePlan({
    plan,
    inventory,
    transports: new ScriptedFleet(new ReplyBook([returns as never], inventory), tracker, clock),
    strategy: new UnattendedStrategy({ yes, operator: 'op' }),
    sinks: [tracker, journal],
    runId: 'run-42',
    runDir: runDir.path,
    clock,
  });
  await journal.close();
  return runDir.path;
}

describe('remedy test --record / --from-run', { timeout: 60_000 }, () => {
  it('records a case whose replies are the outputs and whose assertions are the decisions; it passes', async () => {
    const dir = miniProject({});
    const run = await recordedRun(dir, {
      check: { w2: { stdout: '503' }, '*': { stdout: '200' } },
      restart: { w2: [{ exit_code: 1, stderr: 'busy\n' }, { verify: [{ stdout: '502' }, { stdout: '200' }] }] },
    });
    const out = join(dir, 'recorded.test.yaml');
    const text = recordCase(run, out);
    writeFileSync(out, text);
    const data = parse(text) as {
      runbook: string;
      inventory: unknown;
      cases: { params: unknown; returns: Record<string, Record<string, unknown>>; expect: unknown }[];
    };
    expect(text.split('\n')[0]).toMatch(/^# yaml-language-server: \$schema=\S+schema\/runbook-test\.schema\.json$/);
    expect(data.runbook).toBe('mini.yaml');
    expect(data.inventory).toEqual(parse(readFileSync(join(dir, 'inventory.yaml'), 'utf8')));
    const c = data.cases[0];
    expect(c?.params).toEqual({ port: '9090' });
    expect(c?.returns.check).toEqual({ w1: { stdout: '200' }, w2: { stdout: '503' }, w3: { stdout: '200' } });
    // The failed attempt, then the retry with its two verify checks.
    expect(c?.returns.restart).toEqual({ w2: [{ exit_code: 1, stderr: 'busy\n' }, { verify: [{ stdout: '502' }, { stdout: '200' }] }] });
    expect(c?.expect).toEqual({
      cause: 'down',
      outcome: 'resolved',
      exit_code: 0,
      ran_exactly: ['check', 'decide', 'restart', 'fixed'],
      hosts: { w1: 'ok', w2: 'ok', w3: 'ok' },
    });
    const results = await runFileCases(loadTestFile(out));
    expect(results.map((r) => [r.status, r.failures])).toEqual([['passed', []]]);
  });

  it('--from-run replays against the runbook as it is now and lists the decisions that changed', async () => {
    const dir = miniProject({});
    const run = await recordedRun(dir, { check: { w1: { stdout: '500' }, '*': { stdout: '200' } }, restart: { verify: { stdout: '200' } } });
    const same = await replayRun(run);
    expect(same.result.cases.map((c) => c.status)).toEqual(['passed']);
    expect(same.changes).toEqual([]);

    // The author now treats only a 503 as down: the recorded 500 no longer is.
    const file = join(dir, 'mini.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('h.facts.code != 200', 'h.facts.code == 503'));
    const edited = await replayRun(run);
    expect(edited.result.cases[0]?.status).toBe('failed');
    expect(edited.changes).toEqual([
      'cause: recorded "down", now "none"',
      'outcome: recorded "resolved", now "nothing-to-do"',
      'ran_exactly: recorded ["check","decide","restart","fixed"], now ["check","decide","fine"]',
    ]);
  });

  it('a run that did not finish cannot be recorded (exit 64)', async () => {
    const dir = miniProject({});
    const run = await recordedRun(dir, {});
    writeFileSync(
      join(run, 'journal.jsonl'),
      readFileSync(join(run, 'journal.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => !l.includes('"run-end"'))
        .join('\n'),
    );
    expect(() => recordCase(run, join(dir, 'x.test.yaml'))).toThrow(/did not finish/);
  });
});
