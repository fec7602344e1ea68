// `remedy validate` warns of a cause whose path can run past the last step without an outcome
// step (the executor ends such a run escalated, exit 3, whatever it fixed), at the decide step,
// and stays silent for a runbook where every cause ends at an outcome step, like the shipped ones.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/inventory/load.js';
import { flowDiagnostics } from '../../src/plan/index.js';
import { loadRunbook } from '../../src/runbook/index.js';

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'remedy-flow-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const none = parseInventory('all: {}\n', '(none)', { format: 'yaml' });

const runbook = (highOutcome: boolean): string => `name: t
summary: one cause has an outcome${highOutcome ? ', and so has the other' : ', the other has none'}
steps:
  - id: look
    name: look
    hosts: all
    run: look
    capture: { level: { as: integer } }
  - id: diagnose
    name: decide
    decide:
      causes:
        - cause: high
          when: hosts("all").exists(h, h.facts.level > 5)
      default: none
  - id: fix
    name: fix
    when: cause == "high"
    hosts: all
    run: fix
    mutates: true
${
  highOutcome
    ? `  - id: fixed
    name: fixed
    when: cause == "high"
    outcome: { status: resolved, message: fixed }
`
    : ''
}  - id: low
    name: low
    when: cause == "none"
    outcome: { status: nothing-to-do, message: low }
`;

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('flow check', () => {
  it('a cause with no outcome step on its path: one warning at its decide step, naming the cause and where the path leaves', () => {
    const file = write('missing.yaml', runbook(false));
    const diagnostics = flowDiagnostics(loadRunbook(file).loaded, none);
    expect(diagnostics).toEqual([
      {
        file: expect.stringContaining('missing.yaml'),
        line: 9,
        col: 5,
        severity: 'warning',
        message:
          'cause "high" can reach the end of the runbook without an outcome step (after fix): such a run ends escalated (exit 3) whatever it fixed; add an outcome step on its path',
      },
    ]);
  });

  it('every cause ending at an outcome step: no warning; nor for any shipped runbook', () => {
    expect(flowDiagnostics(loadRunbook(write('complete.yaml', runbook(true))).loaded, none)).toEqual([]);
    const shipped = readdirSync(join(ROOT, 'runbooks/apigee')).filter((f) => f.endsWith('.yaml') && !f.endsWith('.vars.yaml'));
    expect(shipped.length).toBeGreaterThanOrEqual(5);
    for (const f of shipped) expect(flowDiagnostics(loadRunbook(join(ROOT, 'runbooks/apigee', f)).loaded, none), f).toEqual([]);
  });

  it('`remedy validate` prints it as file:line:col, counts it as a warning and still exits 0', () => {
    const file = write('cli.yaml', runbook(false));
    const r = spawnSync(process.execPath, [join(ROOT, 'dist/cli/main.js'), 'validate', file], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout).toContain(`${file}:9:5: warning: cause "high" can reach the end of the runbook without an outcome step (after fix)`);
    expect(r.stdout).toMatch(/^1 runbook valid, \d+ warnings$/m);
    expect(r.status, r.stderr).toBe(0);
  }, 90_000);
});
