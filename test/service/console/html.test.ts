// The console's pure parts: escaping by construction, folding identical hosts, the login's
// redirect target, the runs filters, and the approval panel as each role sees it.
import { describe, expect, it } from 'vitest';
import { approvalPanel, foldByText, panelKey } from '../../../src/service/console/approval-panel.js';
import { html, trusted } from '../../../src/service/console/html.js';
import { safeNext } from '../../../src/service/console/routes.js';
import { readFilter } from '../../../src/service/console/runs-page.js';
import type { RunRecord } from '../../../src/service/store.js';

const RUN: RunRecord = {
  id: 'r1',
  runbook: 'rb',
  inventory: '/inv',
  params: {},
  limit: null,
  outcome: 'running',
  exitCode: null,
  cause: null,
  message: null,
  alert: null,
  decision: { route: 'r', mode: 'approve', queue: 'default', reason: null, scope: null },
  createdAt: '2026-11-29T10:00:00.000Z',
  startedAt: null,
  endedAt: null,
  planHash: 'sha256:abc',
  hosts: {},
  approval: {
    step: 'fix',
    hosts: ['a', 'b', 'c'],
    planHash: 'sha256:abc',
    batch: 1,
    batchCount: 2,
    commands: [
      { host: 'a', command: 'restart <svc> && echo "done"' },
      { host: 'b', command: 'restart <svc> && echo "done"' },
      { host: 'c', command: 'restart other' },
    ],
    diffs: { a: '-x=1\n+x=2', b: '-x=1\n+x=2' },
    requestedAt: '2026-11-29T10:00:01.000Z',
  },
  worker: null,
  runDir: null,
  firstCommandAt: null,
};

describe('console HTML', () => {
  it('escapes every interpolated value unless it is Html itself', () => {
    const evil = `<script>alert("x")</script>' onmouseover='1`;
    expect(html`<p title="${evil}">${evil}</p>`.value).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;1">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;1</p>',
    );
    expect(html`<ul>${['<a>', html`<li>ok</li>`, null, false, undefined]}</ul>`.value).toBe('<ul>&lt;a&gt;<li>ok</li></ul>');
    expect(html`${trusted('<svg/>')}`.value).toBe('<svg/>');
  });

  it('folds hosts with identical text, keeping the host order', () => {
    expect(
      foldByText([
        { host: 'a', text: 'x' },
        { host: 'b', text: 'y' },
        { host: 'c', text: 'x' },
      ]),
    ).toEqual([
      { text: 'x', hosts: ['a', 'c'] },
      { text: 'y', hosts: ['b'] },
    ]);
  });

  it('redirects after login only to a path on this server', () => {
    expect(safeNext('/runs/abc?x=1')).toBe('/runs/abc?x=1');
    for (const bad of ['//evil.example/', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '/login', '', null, undefined, '/runs x'])
      expect(safeNext(bad), String(bad)).toBe('/runs');
  });

  it('keeps only known outcome and time filters', () => {
    expect(readFilter({ outcome: 'resolved', since: '24h', runbook: 'rb', host: ' mp-1 ', attention: '1' })).toEqual({
      outcome: 'resolved',
      since: '24h',
      runbook: 'rb',
      host: 'mp-1',
      attention: true,
    });
    expect(readFilter({ outcome: 'drop table', since: '1y' })).toMatchObject({ outcome: '', since: '' });
  });

  it('the approval panel folds identical commands and diffs, offers the remaining batches, and has no form for a viewer', () => {
    const op = approvalPanel(RUN, [], { name: 'alice', role: 'operator' }).value;
    expect(op).toContain(`data-key="${panelKey(RUN.approval)}"`);
    expect(op.match(/class="cmd"/g)).toHaveLength(3);
    expect(op).toContain('a, b</span>');
    expect(op).toContain('restart &lt;svc&gt; &amp;&amp; echo &quot;done&quot;');
    expect(op).toContain('Approve this and the remaining batches');
    expect(op).toContain('batch 1 of 2');
    expect(op.match(/name="host"/g)).toHaveLength(3);
    const viewer = approvalPanel(RUN, [], { name: 'dash', role: 'viewer' }).value;
    expect(viewer).not.toContain('<form');
    expect(viewer).toContain('only an operator or admin can approve');
    const lastBatch = approvalPanel({ ...RUN, approval: { ...(RUN.approval as NonNullable<RunRecord['approval']>), batch: 2 } }, [], {
      name: 'alice',
      role: 'operator',
    }).value;
    expect(lastBatch).not.toContain('remaining batches');
    expect(approvalPanel({ ...RUN, approval: null }, [], { name: 'alice', role: 'operator' }).value).toContain('hidden');
  });
});
