// The part of the report the next person reads first: summary, phase timings, evidence, commands.
import { describe, expect, it } from 'vitest';
import { buildReportModel, renderReport } from '../../src/journal/index.js';
import { backendEscalatedRun, refusedRun, resolvedRun } from './fixtures.js';

describe('report handover', () => {
  it('summary first: outcome, cause, per-host status in inventory order, what changed, what is left', () => {
    const m = buildReportModel(resolvedRun());
    expect(m.summary).toMatchObject({
      outcome: 'resolved',
      cause: 'mp_heap_exhausted',
      hosts: [
        { host: 'mp-1', status: 'ok' },
        { host: 'mp-2', status: 'ok' },
      ],
    });
    expect(m.summary.changed).toEqual(['Restart the message processor (restart_mp) on mp-1', 'Raise the heap (edit_props) on mp-1']);
    const md = renderReport(m, 'markdown');
    expect(md.indexOf('## Summary')).toBeLessThan(md.indexOf('## Phase timings'));
    expect(md.indexOf('## Phase timings')).toBeLessThan(md.indexOf('## Diagnosis'));
    const refused = buildReportModel(refusedRun());
    expect(refused.summary.leftForPeople).toContain('Step restart_mp was refused on mp-1: it did not run there.');
  });

  it('phase timings: start, evidence, decision, fix; verified only by a check after the fix', () => {
    const phases = buildReportModel(resolvedRun()).phases;
    expect(phases.map((p) => p.id)).toEqual(['start', 'evidence', 'decided', 'fixed', 'verified']);
    expect(phases.map((p) => p.atMs)).toEqual([0, 700, 900, 2700, null]);
    // The properties edit came after restart_mp's own verification: nothing checked the last fix.
    expect(phases[4]?.note).toBe('no check ran after the fix');
    const escalated = buildReportModel(backendEscalatedRun()).phases;
    expect(escalated[3]).toMatchObject({ time: null, note: 'nothing was changed' });
    const md = renderReport(buildReportModel(resolvedRun()), 'markdown');
    expect(md).toContain('| cause decided | 2026-11-24T13:45:01.900Z | +900ms |');
  });

  it('the escalated report inlines message ids, fault codes and sample lines, cut with a link to the rest', () => {
    const m = buildReportModel(backendEscalatedRun());
    for (const format of ['markdown', 'html', 'json'] as const) {
      const text = renderReport(m, format);
      expect(text, format).toContain('rrt-0c8e2a1f9b3d-17');
      expect(text, format).toContain('messaging.adaptors.http.flow.ErrorResponseCode');
      expect(text, format).toContain('GET /v1/orders HTTP/1.1');
    }
    const md = renderReport(m, 'markdown');
    expect(md).toContain(
      '… 12 more lines cut here: the full output is [outputs/backend\\_evidence/router-1.stdout](outputs/backend_evidence/router-1.stdout).',
    );
    expect(renderReport(m, 'html')).toContain('the full output is <a href="outputs/backend_evidence/router-1.stdout">');
    expect(m.summary.leftForPeople[0]).toMatch(/Escalate to the backend team/);
    // Skipped branches are one line, not a section each.
    expect(md).toContain('Skipped: 2 steps whose condition did not hold (other causes): `restart_down_mps`, `verify_routers`.');
    expect(md).not.toContain('### 3. restart_down_mps');
  });

  it('commands per host: identical ones grouped with their hosts', () => {
    const m = buildReportModel(resolvedRun());
    expect(m.commands.find((c) => c.step === 'restart_mp')).toEqual({
      step: 'restart_mp',
      name: 'Restart the message processor',
      mutates: true,
      groups: [{ command: 'apigee-service edge-message-processor restart', hosts: ['mp-1'] }],
    });
    expect(m.commands.find((c) => c.step === 'check_mp')?.groups).toEqual([
      { command: "curl -s 'http://localhost:8082/v1/servers/self'", hosts: ['mp-1', 'mp-2'] },
    ]);
    expect(renderReport(m, 'markdown')).toMatch(/On mp-1:\n\n```sh\napigee-service edge-message-processor restart\n```/);
  });
});
