// Who decided what, when and why: the operators' answers (with the comment the journal records
// since the console requires one to deny) in the summary and the Approvals section of the
// Markdown, HTML and JSON reports, escaped for each format and redacted exactly as the journal is.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/engine/events.js';
import { JournalSink, buildReportModel, createRunDir, loadReport, renderReport } from '../../src/journal/index.js';
import { Redactor } from '../../src/redact/redactor.js';
import { SECRET, counts, runStart, seq } from './fixtures.js';

const base = mkdtempSync(join(tmpdir(), 'remedy-report-approvals-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const DENIAL = 'mp-2 serves the <payments> partner until 22:00 | wait';

/**
 * Approve-mode run from the console: bob overrode the concluded cause, alice approved batch 1 of
 * a rolling restart with a note, bob denied batch 2 with a reason, and a later step was refused
 * by the run policy (no person, no comment).
 */
function decidedRun(comment2 = DENIAL): RunEvent[] {
  return seq([
    { ...runStart(['mp-1', 'mp-2']), mode: 'guided' },
    { type: 'step-start', step: 'diagnose', name: 'Diagnose', kind: 'decide', mutates: false, hosts: [] },
    {
      type: 'decision',
      step: 'diagnose',
      cause: 'mps-busy',
      evidence: { condition: null, facts: {} },
      candidates: ['mps-down', 'mps-busy', 'unknown'],
      override: { from: 'unknown', operator: 'bob' },
    },
    { type: 'step-end', step: 'diagnose', status: 'ok', durationMs: 2, counts: counts(), next: 'restart' },
    { type: 'step-start', step: 'restart', name: 'Restart the MP', kind: 'run', mutates: true, hosts: ['mp-1'], batch: 1, batches: 2 },
    {
      type: 'approval',
      step: 'restart',
      decision: 'approved',
      source: 'operator',
      operator: 'alice',
      hosts: ['mp-1'],
      planHash: 'sha256:abc123',
      batch: 1,
      comment: 'canary first',
    },
    { type: 'host-start', step: 'restart', host: 'mp-1', attempt: 1, command: 'apigee-service edge-message-processor restart' },
    { type: 'host-end', step: 'restart', host: 'mp-1', status: 'changed', attempt: 1, exitCode: 0, signal: null, durationMs: 900, final: true },
    { type: 'step-end', step: 'restart', status: 'ok', durationMs: 950, counts: counts({ changed: 1 }), next: 'restart' },
    { type: 'step-start', step: 'restart', name: 'Restart the MP', kind: 'run', mutates: true, hosts: ['mp-2'], batch: 2, batches: 2 },
    {
      type: 'approval',
      step: 'restart',
      decision: 'refused',
      source: 'operator',
      operator: 'bob',
      hosts: ['mp-2'],
      planHash: 'sha256:abc123',
      batch: 2,
      comment: comment2,
      commands: [{ host: 'mp-2', command: 'apigee-service edge-message-processor restart' }],
    },
    {
      type: 'host-end',
      step: 'restart',
      host: 'mp-2',
      status: 'skipped',
      attempt: 0,
      exitCode: null,
      signal: null,
      durationMs: 0,
      reason: 'not approved',
      final: true,
    },
    { type: 'step-end', step: 'restart', status: 'ok', durationMs: 3, counts: counts({ skipped: 1 }), next: 'heap_dump' },
    { type: 'step-start', step: 'heap_dump', name: 'Take a heap dump', kind: 'run', mutates: true, hosts: ['mp-1'] },
    { type: 'approval', step: 'heap_dump', decision: 'refused', source: 'policy', operator: 'alice', hosts: ['mp-1'], planHash: 'sha256:abc123' },
    {
      type: 'host-end',
      step: 'heap_dump',
      host: 'mp-1',
      status: 'skipped',
      attempt: 0,
      exitCode: null,
      signal: null,
      durationMs: 0,
      reason: 'not approved',
      final: true,
    },
    { type: 'step-end', step: 'heap_dump', status: 'skipped', durationMs: 1, counts: counts({ skipped: 1 }), next: null },
    {
      type: 'run-end',
      outcome: 'escalated',
      cause: 'mps-busy',
      exitCode: 3,
      durationMs: 2500,
      message: 'mp-2 was not restarted',
      hosts: { 'mp-1': 'ok', 'mp-2': 'not-remediated' },
    },
  ]);
}

describe('report: approvals and who decided', () => {
  it('the model keeps each answer with its operator, time and comment; the summary lists the decisions in order', () => {
    const m = buildReportModel(decidedRun());
    expect(m.approvals.map((a) => [a.step, a.batch, a.decision, a.source, a.operator, a.comment])).toEqual([
      ['restart', 1, 'approved', 'operator', 'alice', 'canary first'],
      ['restart', 2, 'refused', 'operator', 'bob', DENIAL],
      ['heap_dump', undefined, 'refused', 'policy', 'alice', undefined],
    ]);
    const times = m.approvals.map((a) => a.time);
    expect(m.summary.decisions).toEqual([
      `${m.diagnosis?.time} bob overrode the cause at diagnose: mps-busy, not unknown as concluded`,
      `${times[0]} alice approved restart (batch 1) on mp-1 (answered by a person): "canary first"`,
      `${times[1]} bob refused restart (batch 2) on mp-2 (answered by a person): "${DENIAL}"`,
      `${times[2]} alice refused heap_dump on mp-1 (by the run policy)`,
    ]);
    // What is left names who declined and why; a policy refusal names no person.
    expect(m.summary.leftForPeople).toContain(`Step restart (batch 2) was refused by bob on mp-2 ("${DENIAL}"): it did not run there.`);
    expect(m.summary.leftForPeople).toContain('Step heap_dump was refused on mp-1: it did not run there.');
  });

  it('markdown: a Decisions list in the summary and a Comment column, escaped (no raw HTML, no broken table)', () => {
    const md = renderReport(buildReportModel(decidedRun()), 'markdown');
    const summary = md.slice(md.indexOf('## Summary'), md.indexOf('## Phase timings'));
    expect(summary).toContain('**Decisions (who, what, when, why):**');
    expect(summary).toMatch(/- \S+ alice approved restart \(batch 1\) on mp-1 \(answered by a person\): "canary first"/);
    expect(summary).toContain('bob refused restart (batch 2) on mp-2 (answered by a person): "mp-2 serves the &lt;payments&gt; partner until 22:00 \\| wait"');
    const approvals = md.slice(md.indexOf('## Approvals'), md.indexOf('## What changed'));
    expect(approvals).toContain('| Time | Step | Decision | Source | Operator | Hosts | Comment |');
    const bobRow = approvals.split('\n').find((l) => l.includes('| bob |')) ?? '';
    expect(bobRow).toMatch(
      /\| `restart` batch 2 \| \*\*refused\*\* \| operator \| bob \| mp-2 \| mp-2 serves the &lt;payments&gt; partner until 22:00 \\\| wait \|$/,
    );
    // The escaped pipe keeps the row at 7 cells.
    expect(bobRow.split(/(?<!\\)\|/).length - 2).toBe(7);
    expect(approvals.split('\n').find((l) => l.includes('`heap_dump`'))).toMatch(/\| policy \| alice \| mp-1 \| — \|$/);
    expect(md).not.toContain('<payments>');
  });

  it('HTML: the same, escaped; JSON: the comment on each approval and the decisions in the summary', () => {
    const m = buildReportModel(decidedRun());
    const html = renderReport(m, 'html');
    expect(html).toContain('<h3>Decisions (who, what, when, why)</h3>');
    expect(html).toContain('<th>Comment</th>');
    expect(html).toContain('<td>mp-2 serves the &lt;payments&gt; partner until 22:00 | wait</td>');
    expect(html).toContain('<td>canary first</td>');
    expect(html).not.toContain('<payments>');
    const json = JSON.parse(renderReport(m, 'json')) as { approvals: { comment?: string }[]; summary: { decisions: string[] } };
    expect(json.approvals.map((a) => a.comment ?? null)).toEqual(['canary first', DENIAL, null]);
    expect(json.summary.decisions).toHaveLength(4);
    expect(json.summary.decisions[2]).toContain(DENIAL);
  });

  it('a cause the operator accepted names them (summary, Markdown, HTML); one nobody was asked names nobody', () => {
    const events = (confirmedBy: string | undefined): RunEvent[] =>
      decidedRun().map((ev) =>
        ev.type === 'decision'
          ? (() => {
              const { override: _override, ...rest } = ev;
              return { ...rest, ...(confirmedBy !== undefined ? { confirmedBy } : {}) };
            })()
          : ev,
      );
    const accepted = buildReportModel(events('carol'));
    expect(accepted.summary.decisions[0]).toBe(`${accepted.diagnosis?.time} carol accepted the concluded cause at diagnose: mps-busy`);
    expect(renderReport(accepted, 'markdown')).toContain('- Accepted by carol');
    expect(renderReport(accepted, 'html')).toContain('<li>Accepted by carol</li>');
    const unasked = buildReportModel(events(undefined));
    expect(unasked.summary.decisions.some((d) => d.includes('cause'))).toBe(false);
    expect(renderReport(unasked, 'markdown')).not.toContain('Accepted by');
  });

  it('a comment carrying a secret is redacted in the journal and in every report format, the rest of it kept', async () => {
    const redactor = new Redactor([SECRET]);
    const dir = createRunDir({ runbook: 'rb', base });
    const journal = new JournalSink(dir.path, redactor);
    for (const ev of decidedRun(`the admin password ${SECRET} leaked in the ticket`)) journal.write(ev);
    await journal.close();
    expect(readFileSync(join(dir.path, 'journal.jsonl'), 'utf8')).not.toContain(SECRET);
    const m = loadReport(dir.path);
    expect(m.approvals[1]?.comment).toBe('the admin password ******** leaked in the ticket');
    for (const format of ['markdown', 'html', 'json'] as const) {
      const text = renderReport(m, format, { redactor });
      expect(text, format).not.toContain(SECRET);
      // Markdown escapes the mask's asterisks.
      expect(format === 'markdown' ? text.replace(/\\\*/g, '*') : text, format).toContain('the admin password ******** leaked in the ticket');
    }
  });
});
