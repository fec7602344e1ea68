// The report as one self-contained HTML file: inline CSS, no script, no external asset (it is
// mailed, attached to tickets, opened offline). Every value from the run goes through esc().
import { formatBytes, formatDuration } from '../ui/format.js';
import type { ReportModel, TimelineAttempt, TimelineStep } from './report-model.js';

export function esc(s: unknown): string {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1f2328;background:#fff}
h1{font-size:1.6rem;margin-bottom:.3rem}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2rem;margin-top:2rem}
h3{font-size:1.05rem;margin:1.2rem 0 .4rem}
table{border-collapse:collapse;margin:.4rem 0 1rem;width:100%}th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
pre{background:#f6f8fa;padding:.6rem;overflow:auto;white-space:pre-wrap;word-break:break-word}
.summary td:first-child{width:10rem;font-weight:600}
.st{display:inline-block;padding:0 .45rem;border-radius:1rem;font-weight:600;font-size:12px;background:#eaeef2}
.st-ok,.st-resolved,.st-nothing-to-do,.st-approved{background:#dafbe1;color:#116329}
.st-changed,.st-partial,.st-escalated,.st-escalate,.st-refused,.st-skipped-approval{background:#fff8c5;color:#7d4e00}
.st-failed,.st-timed-out,.st-interrupted,.st-aborted{background:#ffebe9;color:#a40e26}
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

function table(head: string[], rows: string[][], cls = ''): string {
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function diffBlock(diff: string): string {
  const lines = diff.replace(/\n$/, '').split('\n').map((l) => {
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
  b.push(
    table(
      ['', ''],
      [
        ['Outcome', `${badge(r.outcome)} exit ${esc(r.exitCode)}`],
        ['Cause', r.cause === null ? 'none' : code(r.cause)],
        ['Operator', `${esc(r.operator ?? '?')}${m.run.user ? ` <span class="muted">(user ${esc(m.run.user)}${m.run.controller ? ` on ${esc(m.run.controller)}` : ''})</span>` : ''}`],
        ['Mode', esc(r.mode ?? '?')],
        ['Plan hash', r.planHash ? code(r.planHash) : '?'],
        ['Run id', `${r.runIds.map(code).join(', ') || '?'}${m.run.resumed ? ' (resumed)' : ''}`],
        ['Started', esc(r.startedAt ?? '?')],
        ['Ended', esc(r.endedAt ?? '?')],
        ['Duration', esc(formatDuration(r.durationMs))],
        ['Hosts', Object.entries(r.hosts).map(([h, s]) => `${esc(h)} ${badge(s.status)}`).join(' ') || 'none'],
      ],
      'summary',
    ),
  );
  if (r.message) b.push(`<p class="note">${esc(r.message)}</p>`);
  if (m.journalProblems.length > 0) {
    b.push(`<p class="note">Some journal lines could not be read:</p><ul>${m.journalProblems.map((p) => `<li>line ${esc(p.line)}: ${esc(p.message)}</li>`).join('')}</ul>`);
  }
  const params = Object.entries(m.run.params);
  if (params.length > 0) b.push('<h2>Parameters</h2>', table(['Param', 'Value'], params.map(([k, v]) => [code(k), code(v)])));

  b.push('<h2>Diagnosis</h2>');
  if (!m.diagnosis) b.push('<p>No decision was recorded.</p>');
  else {
    const d = m.diagnosis;
    b.push(`<p>Cause ${code(d.cause)}, decided at step ${code(d.step)} <span class="muted">(${esc(d.time)})</span>.</p><ul>`);
    b.push(`<li>Matched condition: ${d.evidence.condition === null ? 'none (the default cause)' : code(d.evidence.condition)}</li>`);
    if (d.candidates.length > 0) b.push(`<li>Candidates: ${d.candidates.map(code).join(', ')}</li>`);
    if (d.override) b.push(`<li>Overridden by ${esc(d.override.operator)} (concluded ${code(d.override.from)})</li>`);
    b.push('</ul>');
    const facts = Object.entries(d.evidence.facts);
    if (facts.length > 0) b.push(table(['Host', 'Facts'], facts.map(([h, f]) => [esc(h), Object.entries(f).map(([k, v]) => `${esc(k)}=${code(v)}`).join(', ') || '—'])));
  }

  b.push('<h2>Timeline</h2>');
  if (m.timeline.length === 0) b.push('<p>No step ran.</p>');
  m.timeline.forEach((s, i) => b.push(timelineStep(s, i + 1)));

  b.push('<h2>Approvals</h2>');
  if (m.approvals.length === 0) b.push('<p>No approval was asked or recorded.</p>');
  else {
    b.push(table(['Time', 'Step', 'Decision', 'Source', 'Operator', 'Hosts'], m.approvals.map((a) => [esc(a.time), code(a.step) + (a.batch !== undefined ? ` batch ${esc(a.batch)}` : ''), badge(a.decision), esc(a.source), esc(a.operator), a.hosts.map(esc).join(', ') || '—'])));
    for (const a of m.approvals.filter((x) => x.decision !== 'approved' && x.commands.length > 0)) {
      b.push(`<p>Would have run at ${code(a.step)} (${esc(a.decision)}):</p><pre>${a.commands.map((c) => `${esc(c.host)}: ${esc(c.command)}`).join('\n')}</pre>`);
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
  else b.push(table(['Host', 'Step', 'Path', 'Size', 'SHA-256'], m.artifacts.map((a) => [esc(a.host), code(a.step), code(a.path) + (a.present ? '' : ' <span class="st st-failed">missing or changed on disk</span>'), esc(formatBytes(a.bytes)), code(a.sha256)])));

  if (m.rollbacks.length > 0) b.push('<h2>Rollbacks</h2>', table(['Time', 'Step', 'Host', 'Reason'], m.rollbacks.map((x) => [esc(x.time), code(x.step), esc(x.host), esc(x.reason)])));
  if (m.locks.length > 0) b.push('<h2>Host locks</h2>', table(['Time', 'Host', 'Action', 'Detail'], m.locks.map((x) => [esc(x.time), esc(x.host), esc(x.action), esc(x.detail ?? '')])));
  b.push('<h2>Warnings</h2>');
  b.push(m.warnings.length === 0 ? '<p>None.</p>' : `<ul>${m.warnings.map((w) => `<li><span class="muted">${esc(w.time)}</span>${w.step ? ` ${code(w.step)}` : ''}${w.host ? ` on ${esc(w.host)}` : ''}: ${esc(w.message)}</li>`).join('')}</ul>`);

  b.push('<h2>Final outcome</h2><ul>');
  for (const o of m.outcomes) b.push(`<li>Outcome step ${code(o.step)}: ${badge(o.status)} ${esc(o.message)}</li>`);
  b.push(`<li>Run: ${badge(r.outcome)}, exit code ${esc(r.exitCode)}${r.cause !== null ? `, cause ${code(r.cause)}` : ''}.</li></ul>`);

  const title = `remedy: ${r.runbook ?? 'run'}: ${r.outcome}`;
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)}</title><style>${CSS}</style></head><body>\n${b.join('\n')}\n</body></html>\n`;
}

function timelineStep(s: TimelineStep, n: number): string {
  const tags = [s.mutates ? '<span class="mut">mutates</span>' : '', s.batches ? `${esc(s.batches)} batches` : '', s.rollbackOf ? `rollback of ${code(s.rollbackOf)}` : ''].filter(Boolean);
  const out = [`<h3>${n}. ${esc(s.name)} ${code(s.id)} ${badge(s.status)}${s.durationMs !== null ? ` <span class="muted">${esc(formatDuration(s.durationMs))}</span>` : ''}${tags.length ? ` · ${tags.join(' · ')}` : ''}</h3>`];
  if (s.skipReason) out.push(`<p class="muted">Skipped: ${esc(s.skipReason)}</p>`);
  if (s.decided !== undefined) out.push(`<p>Cause: ${code(s.decided)}</p>`);
  if (s.outcome) out.push(`<p>Outcome: ${badge(s.outcome.status)} ${esc(s.outcome.message)}</p>`);
  const rows: string[][] = [];
  for (const h of s.hosts) {
    for (const a of h.attempts) rows.push([esc(h.host), badge(a.status), exitText(a), esc(formatDuration(a.durationMs)), attemptText(a), esc(a.time), detailText(a)]);
    if (h.unfinished) rows.push([esc(h.host), badge('interrupted') + ' started, not finished', '', '', '', '', '']);
  }
  if (rows.length > 0) out.push(table(['Host', 'Status', 'Exit', 'Duration', 'Attempt', 'Time', 'Detail'], rows));
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
  if (a.facts && Object.keys(a.facts).length > 0) parts.push(`facts: ${Object.entries(a.facts).map(([k, v]) => `${esc(k)}=${code(v)}`).join(', ')}`);
  if (a.outputs) parts.push(`output: ${code(a.outputs.stdout)}`);
  return parts.join('; ');
}
