// The report as one self-contained HTML file: inline CSS, no script, no external asset (it is
// mailed, attached to tickets, opened offline). Every value from the run goes through esc().
import { formatBytes, formatDuration } from '../ui/format.js';
import type { ReportModel, TimelineAttempt, TimelineStep } from './report-model.js';
import { phaseTimelineSvg } from './report-svg.js';

export function esc(s: unknown): string {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1f2328;background:#fff}
h1{font-size:1.6rem;margin-bottom:.3rem}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2rem;margin-top:2rem}
h3{font-size:1.05rem;margin:1.2rem 0 .4rem}
table{border-collapse:collapse;margin:.4rem 0 1rem;width:100%}th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
td.nw,th.nw{white-space:nowrap;overflow-wrap:normal}code{overflow-wrap:anywhere}
.summary-box{border:1px solid #d0d7de;border-radius:6px;padding:.6rem 1rem;background:#f6f8fa}
.summary-box h2{margin-top:.2rem;border:0}.timeline{display:block;max-width:100%;height:auto;margin:.4rem 0 1rem}
.hosts{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.3rem 1rem}
details{margin:.4rem 0}summary{cursor:pointer}
th{background:#f6f8fa}code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
pre{background:#f6f8fa;padding:.6rem;overflow:auto;white-space:pre-wrap;word-break:break-word}
.summary td:first-child{width:10rem;font-weight:600}
.st{display:inline-block;padding:0 .45rem;border-radius:1rem;font-weight:600;font-size:12px;background:#eaeef2}
.st-ok,.st-resolved,.st-nothing-to-do,.st-approved{background:#dafbe1;color:#116329}
.st-changed,.st-partial,.st-escalated,.st-escalate,.st-refused,.st-skipped-approval{background:#fff8c5;color:#7d4e00}
.st-failed,.st-timed-out,.st-interrupted,.st-aborted,.st-not-remediated{background:#ffebe9;color:#a40e26}
.st-unreachable{background:#fbefff;color:#8250df}.st-skipped{color:#57606a}
.mut{color:#a40e26;font-weight:600}.muted{color:#57606a}
.diff-add{color:#116329}.diff-del{color:#a40e26}
.note{background:#fff8c5;border-left:4px solid #d4a72c;padding:.4rem .8rem}
`;

function badge(status: string): string {
  return `<span class="st st-${esc(status.replace(/[^a-z-]/g, ''))}">${esc(status)}</span>`;
}

function code(v: unknown): string {
  return `<code>${esc(typeof v === 'string' ? v : JSON.stringify(v))}</code>`;
}

/** `nowrap`: columns (host names, times, sizes) that must not break mid-word. */
function table(head: string[], rows: string[][], cls = '', nowrap: number[] = []): string {
  const td = (i: number) => (nowrap.includes(i) ? '<td class="nw">' : '<td>');
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c, i) => `${td(i)}${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

/** A relative link to a file of the run directory. */
function link(path: string): string {
  return `<a href="${esc(encodeURI(path))}"><code>${esc(path)}</code></a>`;
}

function diffBlock(diff: string): string {
  const lines = diff
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => {
      const cls = l.startsWith('+') && !l.startsWith('+++') ? 'diff-add' : l.startsWith('-') && !l.startsWith('---') ? 'diff-del' : '';
      return cls ? `<span class="${cls}">${esc(l)}</span>` : esc(l);
    });
  return `<pre>${lines.join('\n')}</pre>`;
}

export function renderReportHtml(m: ReportModel): string {
  const r = m.result;
  const b: string[] = [];
  b.push(`<h1>remedy run: ${esc(r.runbook ?? 'unknown runbook')}</h1>`);
  if (m.plan?.summary) b.push(`<p class="muted">${esc(m.plan.summary)}</p>`);
  b.push(summarySection(m), phasesSection(m), evidenceSection(m), commandsSection(m));

  b.push('<h2 id="run">Run</h2>');
  b.push(
    table(
      ['Field', 'Value'],
      [
        ['Outcome', `${badge(r.outcome)} exit ${esc(r.exitCode)}`],
        ['Cause', r.cause === null ? 'none' : code(r.cause)],
        [
          'Operator',
          `${esc(r.operator ?? '?')}${m.run.user ? ` <span class="muted">(user ${esc(m.run.user)}${m.run.controller ? ` on ${esc(m.run.controller)}` : ''})</span>` : ''}`,
        ],
        ['Mode', esc(r.mode ?? '?')],
        ['Plan hash', r.planHash ? code(r.planHash) : '?'],
        ['Run id', `${r.runIds.map(code).join(', ') || '?'}${m.run.resumed ? ' (resumed)' : ''}`],
        ['Started', esc(r.startedAt ?? '?')],
        ['Ended', esc(r.endedAt ?? '?')],
        ['Duration', esc(formatDuration(r.durationMs))],
      ],
      'summary',
    ),
  );
  if (m.journalProblems.length > 0) {
    b.push(
      `<p class="note">Some journal lines could not be read:</p><ul>${m.journalProblems.map((p) => `<li>line ${esc(p.line)}: ${esc(p.message)}</li>`).join('')}</ul>`,
    );
  }
  const params = Object.entries(m.run.params);
  if (params.length > 0)
    b.push(
      '<h3>Parameters</h3>',
      table(
        ['Param', 'Value'],
        params.map(([k, v]) => [code(k), code(v)]),
      ),
    );

  b.push('<h2 id="diagnosis">Diagnosis</h2>');
  if (!m.diagnosis) b.push('<p>No decision was recorded.</p>');
  else {
    const d = m.diagnosis;
    b.push(`<p>Cause ${code(d.cause)}, decided at step ${code(d.step)} <span class="muted">(${esc(d.time)})</span>.</p><ul>`);
    b.push(`<li>Matched condition: ${d.evidence.condition === null ? 'none (the default cause)' : code(d.evidence.condition)}</li>`);
    if (d.candidates.length > 0) b.push(`<li>Candidates: ${d.candidates.map(code).join(', ')}</li>`);
    if (d.override) b.push(`<li>Overridden by ${esc(d.override.operator)} (concluded ${code(d.override.from)})</li>`);
    else if (d.confirmedBy !== undefined) b.push(`<li>Accepted by ${esc(d.confirmedBy)}</li>`);
    b.push('</ul>');
    const facts = Object.entries(d.evidence.facts);
    if (facts.length > 0)
      b.push(
        table(
          ['Host', 'Facts the decision read'],
          facts.map(([h, f]) => [
            esc(h),
            Object.entries(f)
              .map(([k, v]) => `${esc(k)}=${code(v)}`)
              .join(', ') || '—',
          ]),
          '',
          [0],
        ),
      );
  }

  b.push('<h2 id="timeline">Timeline</h2>');
  if (m.timeline.length === 0) b.push('<p>No step ran.</p>');
  m.timeline.filter((s) => s.status !== 'skipped').forEach((s, i) => b.push(timelineStep(s, i + 1)));
  const skipped = m.timeline.filter((s) => s.status === 'skipped');
  if (skipped.length > 0) {
    b.push(
      `<details><summary>Skipped: ${skipped.length} step${skipped.length === 1 ? '' : 's'} whose condition did not hold (other causes)</summary><ul>${skipped.map((s) => `<li>${code(s.id)} ${esc(s.name)}${s.skipReason ? ` <span class="muted">${esc(s.skipReason)}</span>` : ''}</li>`).join('')}</ul></details>`,
    );
  }

  b.push('<h2>Approvals</h2>');
  if (m.approvals.length === 0) b.push('<p>No approval was asked or recorded.</p>');
  else {
    b.push(
      table(
        ['Time', 'Step', 'Decision', 'Source', 'Operator', 'Hosts', 'Comment'],
        m.approvals.map((a) => [
          esc(a.time),
          code(a.step) + (a.batch !== undefined ? ` batch ${esc(a.batch)}` : ''),
          badge(a.decision),
          esc(a.source),
          esc(a.operator),
          a.hosts.map(esc).join(', ') || '—',
          a.comment ? esc(a.comment) : '—',
        ]),
      ),
    );
    for (const a of m.approvals.filter((x) => x.decision !== 'approved' && x.commands.length > 0)) {
      b.push(
        `<p>Would have run at ${code(a.step)} (${esc(a.decision)}):</p><pre>${a.commands.map((c) => `${esc(c.host)}: ${esc(c.command)}`).join('\n')}</pre>`,
      );
    }
  }

  b.push('<h2>What changed</h2>');
  if (m.changes.length === 0) b.push('<p>Nothing was changed on any host.</p>');
  for (const c of m.changes) {
    b.push(`<p>${esc(c.name)} (${code(c.step)}) on ${esc(c.host)}: ${badge(c.status)}</p>`);
    if (c.diff) b.push(diffBlock(c.diff));
  }

  b.push('<h2>Artifacts</h2>');
  if (m.artifacts.length === 0) b.push('<p>No artifact was fetched.</p>');
  else {
    b.push('<p class="muted">Links are relative to this report (the run directory): a zipped run directory keeps them working.</p>');
    b.push(
      table(
        ['Host', 'Step', 'Path', 'Size', 'SHA-256'],
        m.artifacts.map((a) => [
          esc(a.host),
          code(a.step),
          link(a.path) + (a.present ? '' : ' <span class="st st-failed">missing or changed on disk</span>'),
          esc(formatBytes(a.bytes)),
          code(a.sha256),
        ]),
        '',
        [0, 3],
      ),
    );
  }

  if (m.rollbacks.length > 0)
    b.push(
      '<h2>Rollbacks</h2>',
      table(
        ['Time', 'Step', 'Host', 'Reason'],
        m.rollbacks.map((x) => [esc(x.time), code(x.step), esc(x.host), esc(x.reason)]),
      ),
    );
  if (m.locks.length > 0)
    b.push(
      '<h2>Host locks</h2>',
      table(
        ['Time', 'Host', 'Action', 'Detail'],
        m.locks.map((x) => [esc(x.time), esc(x.host), esc(x.action), esc(x.detail ?? '')]),
      ),
    );
  b.push('<h2>Warnings</h2>');
  b.push(
    m.warnings.length === 0
      ? '<p>None.</p>'
      : `<ul>${m.warnings.map((w) => `<li><span class="muted">${esc(w.time)}</span>${w.step ? ` ${code(w.step)}` : ''}${w.host ? ` on ${esc(w.host)}` : ''}: ${esc(w.message)}</li>`).join('')}</ul>`,
  );

  b.push('<h2>Final outcome</h2><ul>');
  for (const o of m.outcomes) {
    const claim = o.status === r.outcome ? badge(o.status) : `claimed ${esc(o.status)}, overruled by the run's verdict below:`;
    b.push(`<li>Outcome step ${code(o.step)}: ${claim} ${esc(o.message)}</li>`);
  }
  b.push(`<li>Run: ${badge(r.outcome)}, exit code ${esc(r.exitCode)}${r.cause !== null ? `, cause ${code(r.cause)}` : ''}.</li></ul>`);

  const title = `remedy: ${r.runbook ?? 'run'}: ${r.outcome}`;
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title><style>${CSS}</style></head><body>\n${b.join('\n')}\n</body></html>\n`;
}

function timelineStep(s: TimelineStep, n: number): string {
  const tags = [
    s.mutates ? '<span class="mut">mutates</span>' : '',
    s.batches ? `${esc(s.batches)} batches` : '',
    s.rollbackOf ? `rollback of ${code(s.rollbackOf)}` : '',
  ].filter(Boolean);
  const out = [
    `<h3>${n}. ${esc(s.name)} ${code(s.id)} ${badge(s.status)}${s.durationMs !== null ? ` <span class="muted">${esc(formatDuration(s.durationMs))}</span>` : ''}${tags.length ? ` · ${tags.join(' · ')}` : ''}</h3>`,
  ];
  if (s.skipReason) out.push(`<p class="muted">Skipped: ${esc(s.skipReason)}</p>`);
  if (s.decided !== undefined) out.push(`<p>Cause: ${code(s.decided)}</p>`);
  if (s.outcome) out.push(`<p>Outcome: ${badge(s.outcome.status)} ${esc(s.outcome.message)}</p>`);
  const rows: string[][] = [];
  for (const h of s.hosts) {
    for (const a of h.attempts)
      rows.push([esc(h.host), badge(a.status), exitText(a), esc(formatDuration(a.durationMs)), attemptText(a), esc(a.time.slice(11, 23)), detailText(a)]);
    if (h.unfinished) rows.push([esc(h.host), badge('interrupted') + ' started, not finished', '', '', '', '', '']);
  }
  if (rows.length > 0) out.push(table(['Host', 'Status', 'Exit', 'Duration', 'Attempt', 'Time', 'Detail'], rows, '', [0, 1, 3, 5]));
  if (s.next !== undefined && s.next !== null) out.push(`<p class="muted">Next: ${code(s.next)}</p>`);
  return out.join('\n');
}

function exitText(a: TimelineAttempt): string {
  if (a.exitCode !== null) return esc(a.exitCode);
  return a.signal !== null ? esc(a.signal) : '—';
}

function attemptText(a: TimelineAttempt): string {
  const parts = [a.attempt === 0 ? '—' : String(a.attempt)];
  if (a.iteration !== undefined) parts.push(`iteration ${a.iteration}`);
  if (a.phase) parts.push(a.phase);
  return esc(parts.join(', '));
}

function detailText(a: TimelineAttempt): string {
  const parts: string[] = [];
  if (a.error) parts.push(esc(a.error));
  if (a.reason) parts.push(esc(a.reason));
  if (a.facts && Object.keys(a.facts).length > 0)
    parts.push(
      `facts: ${Object.entries(a.facts)
        .map(([k, v]) => `${esc(k)}=${code(v)}`)
        .join(', ')}`,
    );
  if (a.outputs) parts.push(`output: ${link(a.outputs.stdout)}`);
  return parts.join('; ');
}

function summarySection(m: ReportModel): string {
  const s = m.summary;
  const out = ['<section class="summary-box" id="summary"><h2>Summary</h2>'];
  out.push(`<p>${badge(s.outcome)} exit ${esc(s.exitCode)} · cause ${s.cause === null ? 'none decided' : code(s.cause)}</p>`);
  if (s.message) out.push(`<p class="note">${esc(s.message)}</p>`);
  const scope = m.result.scope;
  if (scope)
    out.push(
      `<p><strong>Scope: --limit ${code(scope.limit)}.</strong> This verdict covers only ${esc(scope.hosts.join(', '))}; not looked at: ${esc(scope.excluded.join(', '))}.</p>`,
    );
  if (s.hosts.length > 0) out.push(`<ul class="hosts">${s.hosts.map((h) => `<li>${esc(h.host)} ${badge(h.status)}</li>`).join('')}</ul>`);
  out.push(
    '<h3>What changed</h3>',
    s.changed.length === 0 ? '<p>Nothing was changed on any host.</p>' : `<ul>${s.changed.map((c) => `<li>${esc(c)}</li>`).join('')}</ul>`,
  );
  out.push(
    '<h3>Left for people</h3>',
    s.leftForPeople.length === 0 ? '<p>Nothing.</p>' : `<ul>${s.leftForPeople.map((c) => `<li>${esc(c)}</li>`).join('')}</ul>`,
  );
  if (s.decisions.length > 0)
    out.push('<h3>Decisions (who, what, when, why)</h3>', `<ul class="decisions">${s.decisions.map((d) => `<li>${esc(d)}</li>`).join('')}</ul>`);
  out.push('</section>');
  return out.join('\n');
}

function phasesSection(m: ReportModel): string {
  const rows = m.phases.map((p) => [
    esc(p.label),
    p.time === null ? '—' : esc(p.time),
    p.atMs === null ? `<span class="muted">${esc(p.note ?? 'not reached')}</span>` : `+${esc(formatDuration(p.atMs))}`,
  ]);
  return `<h2 id="phases">Phase timings</h2>\n${phaseTimelineSvg(m.phases, esc)}\n${table(['Phase', 'Time (UTC)', 'Since run start'], rows, '', [0, 1])}`;
}

function evidenceSection(m: ReportModel): string {
  const out = ['<h2 id="evidence">Evidence</h2>'];
  if (m.evidence.length === 0 && !m.diagnosis) out.push('<p>No evidence was recorded.</p>');
  let title = '';
  for (const e of m.evidence) {
    if (e.title !== title) {
      out.push(`<h3>${esc(e.title)} ${code(e.step)}</h3>`);
      title = e.title;
    }
    out.push(`<p><strong>${esc(e.host)}</strong></p><pre>${esc(e.lines.join('\n'))}</pre>`);
    if (e.omitted > 0)
      out.push(
        `<p class="note">… ${esc(e.omitted)} more line${e.omitted === 1 ? '' : 's'} cut here${e.output ? `: the full output is ${link(e.output)}` : ''}.</p>`,
      );
  }
  if (m.diagnosis) out.push('<p class="muted">The facts the decision read are under <a href="#diagnosis">Diagnosis</a>.</p>');
  return out.join('\n');
}

function commandsSection(m: ReportModel): string {
  const out = ['<h2 id="commands">Commands run</h2>'];
  if (m.commands.length === 0) out.push('<p>No command ran on a host.</p>');
  for (const c of m.commands) {
    out.push(`<h3>${esc(c.name)} ${code(c.step)}${c.mutates ? ' <span class="mut">mutates</span>' : ''}</h3>`);
    for (const g of c.groups) out.push(`<p class="muted">on ${g.hosts.map(esc).join(', ')}</p><pre>${esc(g.command)}</pre>`);
  }
  return out.join('\n');
}
