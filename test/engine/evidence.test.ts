// `evidence:` on a step: the lines the runbook marks travel in host-end (journal, screen, report),
// cut to max_lines with the number left out and the file holding the rest.
import { describe, expect, test } from 'vitest';
import { FakeFleet, lastEnds, planOf, runPlan, tempDir } from './helpers.js';

const runbook = `
name: t
summary: evidence lines
steps:
  - id: probe
    name: read the router log
    hosts: routers
    run: read-log
    evidence:
      title: error_log lines
      lines: '^error_log: \\S'
      max_lines: 2
    capture:
      code: { regex: 'code=(\\S+)', evidence: true }
  - id: samples
    name: sample requests
    hosts: routers
    run: samples
    evidence: true
`;

describe('evidence lines', () => {
  test('only matching lines, at most max_lines, with the count cut and the full output named', async () => {
    const { plan, inventory } = planOf(runbook);
    expect(plan.steps[0]?.evidenceFacts).toEqual(['code']);
    const fleet = new FakeFleet()
      .on('read-log', { stdout: 'code=messaging.adaptors.http.flow.ErrorResponseCode\nerror_log: \nerror_log: one\nerror_log: two\nerror_log: three\n' })
      .on('samples', { stdout: 'fault codes:\n  3 target ErrorResponseCode\n\nrrt-1a2b3c\n' });
    const ran = await runPlan(plan, inventory, fleet, { runDir: tempDir() });
    const probe = lastEnds(ran, 'probe').get('r1');
    expect(probe?.evidence).toEqual({ title: 'error_log lines', lines: ['error_log: one', 'error_log: two'], omitted: 1, output: probe?.outputs?.stdout });
    expect(probe?.evidence?.output).toMatch(/^outputs\/probe\/r1/);
    const samples = lastEnds(ran, 'samples').get('r1');
    expect(samples?.evidence).toMatchObject({ title: 'sample requests', lines: ['fault codes:', '  3 target ErrorResponseCode', 'rrt-1a2b3c'], omitted: 0 });
  });

  test('a bad line filter is a runbook error at its position', async () => {
    expect(() => planOf(runbook.replace("'^error_log: \\S'", "'(unclosed'"))).toThrow(/:\d+:\d+.*evidence lines: invalid regular expression/s);
  });
});
