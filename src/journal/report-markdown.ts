// The report as markdown (report.md, `remedy report --format markdown`). Every value from the run
// is escaped: raw HTML in markdown would be rendered by most viewers.
import { formatBytes, formatDuration } from '../ui/format.js';
import type { ReportModel, TimelineAttempt, TimelineStep } from './report-model.js';

/** Plain text in markdown: HTML-significant characters as entities, markdown specials escaped. */
export function mdText(s: unknown): string {
  return String(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|#])/g, '\\$1')
    .replace(/\r?\n/g, ' ');
}

/** An inline code span that survives backticks, pipes (in tables) and newlines in the value. */
export function mdCode(s: unknown): string {
  const text = String(s).replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') || text === '' ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A fenced block whose fence is longer than any backtick run inside. */
export function mdBlock(s: string, lang = ''): string {
  const longest = Math.max(2, ...(s.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${lang}\n${s.replace(/\n$/, '')}\n${fence}`;
}

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function value(v: unknown): string {
  return mdCode(typeof v === 'string' ? v : JSON.stringify(v));
}

export function renderReportMarkdown(m: ReportModel): string {
  const r = m.result;
  const out: string[] = [];
  out.push(`# remedy run: ${mdText(r.runbook ?? 'unknown runbook')}`, '');
  if (m.plan?.summary) out.push(`> ${mdText(m.plan.summary)}`, '');
  out.push(...summarySection(m));
  out.push(...phasesSection(m));
  out.push(...evidenceSection(m));
  out.push(...commandsSection(m));

  out.push('## Run', '');
  const hostCounts = countHosts(m);
  out.push(
    table(
      ['Field', 'Value'],
      [
        ['Outcome', `**${mdText(r.outcome)}** (exit ${r.exitCode})`],
        ['Cause', r.cause === null ? 'none' : mdCode(r.cause)],
        [
          'Operator',
          `${mdText(r.operator ?? '?')}${m.run.user ? ` (user ${mdText(m.run.user)}${m.run.controller ? ` on ${mdText(m.run.controller)}` : ''})` : ''}`,
        ],
        ['Mode', mdText(r.mode ?? '?')],
        ['Plan hash', r.planHash ? mdCode(r.planHash) : '?'],
        ['Run id', `${r.runIds.map(mdCode).join(', ') || '?'}${m.run.resumed ? ' (resumed)' : ''}`],
        ['Started', mdText(r.startedAt ?? '?')],
        ['Ended', mdText(r.endedAt ?? '?')],
        ['Duration', formatDuration(r.durationMs)],
        ['Hosts', `${Object.keys(r.hosts).length}: ${hostCounts}`],
      ],
    ),
    '',
  );
  if (m.journalProblems.length > 0) {
    out.push('**Journal:** some lines could not be read:', '');
    for (const p of m.journalProblems) out.push(`- line ${p.line}: ${mdText(p.message)}`);
    out.push('');
  }
  const params = Object.entries(m.run.params);
  if (params.length > 0)
    out.push(
      '### Parameters',
      '',
      table(
        ['Param', 'Value'],
        params.map(([k, v]) => [mdCode(k), value(v)]),
      ),
      '',
    );

  out.push('## Diagnosis', '');
  if (!m.diagnosis) out.push('No decision was recorded.', '');
  else {
    const d = m.diagnosis;
    out.push(`Cause ${mdCode(d.cause)}, decided at step ${mdCode(d.step)} (${mdText(d.time)}).`, '');
    out.push(`- Matched condition: ${d.evidence.condition === null ? 'none (the default cause)' : mdCode(d.evidence.condition)}`);
    if (d.candidates.length > 0) out.push(`- Candidates: ${d.candidates.map(mdCode).join(', ')}`);
    if (d.override) out.push(`- Overridden by ${mdText(d.override.operator)} (concluded ${mdCode(d.override.from)})`);
    else if (d.confirmedBy !== undefined) out.push(`- Accepted by ${mdText(d.confirmedBy)}`);
    out.push('');
    const facts = Object.entries(d.evidence.facts);
    if (facts.length > 0) {
      out.push('Evidence (facts per host):', '');
      out.push(
        table(
          ['Host', 'Facts'],
          facts.map(([host, f]) => [
            mdText(host),
            Object.entries(f)
              .map(([k, v]) => `${mdText(k)}=${value(v)}`)
              .join(', ') || '—',
          ]),
        ),
        '',
      );
    }
  }

  out.push('## Timeline', '');
  if (m.timeline.length === 0) out.push('No step ran.', '');
  const ran = m.timeline.filter((s) => s.status !== 'skipped');
  ran.forEach((s, i) => out.push(...timelineStep(s, i + 1)));
  const skipped = m.timeline.filter((s) => s.status === 'skipped');
  if (skipped.length > 0) {
    out.push(
      `Skipped: ${skipped.length} step${skipped.length === 1 ? '' : 's'} whose condition did not hold (other causes): ${skipped.map((s) => mdCode(s.id)).join(', ')}.`,
      '',
    );
  }

  out.push('## Approvals', '');
  if (m.approvals.length === 0) out.push('No approval was asked or recorded.', '');
  else {
    out.push(
      table(
        ['Time', 'Step', 'Decision', 'Source', 'Operator', 'Hosts', 'Comment'],
        m.approvals.map((a) => [
          mdText(a.time),
          mdCode(a.step) + (a.batch !== undefined ? ` batch ${a.batch}` : ''),
          `**${mdText(a.decision)}**`,
          mdText(a.source),
          mdText(a.operator),
          a.hosts.map(mdText).join(', ') || '—',
          a.comment ? mdText(a.comment) : '—',
        ]),
      ),
      '',
    );
    for (const a of m.approvals.filter((x) => x.decision !== 'approved' && x.commands.length > 0)) {
      out.push(
        `Would have run at ${mdCode(a.step)} (${mdText(a.decision)}):`,
        '',
        mdBlock(a.commands.map((c) => `${c.host}: ${c.command}`).join('\n'), 'sh'),
        '',
      );
    }
  }

  out.push('## What changed', '');
  if (m.changes.length === 0) out.push('Nothing was changed on any host.', '');
  for (const c of m.changes) {
    out.push(`- ${mdText(c.name)} (${mdCode(c.step)}) on ${mdText(c.host)}: **${mdText(c.status)}**`);
    if (c.diff) out.push('', mdBlock(c.diff, 'diff'), '');
  }
  if (m.changes.length > 0) out.push('');

  out.push('## Artifacts', '');
  if (m.artifacts.length === 0) out.push('No artifact was fetched.', '');
  else {
    out.push('Paths are relative to this report (the run directory): a zipped run directory keeps them working.', '');
    out.push(
      table(
        ['Host', 'Step', 'Path', 'Size', 'SHA-256'],
        m.artifacts.map((a) => [
          mdText(a.host),
          mdCode(a.step),
          mdLink(a.path) + (a.present ? '' : ' (missing or changed on disk)'),
          formatBytes(a.bytes),
          mdCode(a.sha256),
        ]),
      ),
      '',
    );
  }

  if (m.rollbacks.length > 0) {
    out.push(
      '## Rollbacks',
      '',
      table(
        ['Time', 'Step', 'Host', 'Reason'],
        m.rollbacks.map((x) => [mdText(x.time), mdCode(x.step), mdText(x.host), mdText(x.reason)]),
      ),
      '',
    );
  }
  if (m.locks.length > 0) {
    out.push(
      '## Host locks',
      '',
      table(
        ['Time', 'Host', 'Action', 'Detail'],
        m.locks.map((x) => [mdText(x.time), mdText(x.host), mdText(x.action), mdText(x.detail ?? '')]),
      ),
      '',
    );
  }
  out.push('## Warnings', '');
  if (m.warnings.length === 0) out.push('None.', '');
  for (const w of m.warnings)
    out.push(`- ${mdText(w.time)}${w.step ? ` ${mdCode(w.step)}` : ''}${w.host ? ` on ${mdText(w.host)}` : ''}: ${mdText(w.message)}`);
  if (m.warnings.length > 0) out.push('');

  out.push('## Final outcome', '');
  // An outcome step's claim the run did not keep (e.g. resolved, with hosts left unremediated) is
  // said to be overruled, so the reader never takes it for the verdict.
  for (const o of m.outcomes) {
    const claim = o.status === r.outcome ? `**${mdText(o.status)}**` : `claimed ${mdText(o.status)}, overruled by the run's verdict below`;
    out.push(`- Outcome step ${mdCode(o.step)}: ${claim}: ${mdText(o.message)}`);
  }
  out.push(`- Run: **${mdText(r.outcome)}**, exit code ${r.exitCode}${r.cause !== null ? `, cause ${mdCode(r.cause)}` : ''}.`, '');
  out.push(
    table(
      ['Host', 'Status'],
      Object.entries(r.hosts).map(([h, s]) => [mdText(h), `**${mdText(s.status)}**`]),
    ),
    '',
  );
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

function timelineStep(s: TimelineStep, n: number): string[] {
  const tags = [s.mutates ? '**mutates**' : '', s.batches ? `${s.batches} batches` : '', s.rollbackOf ? `rollback of ${mdCode(s.rollbackOf)}` : ''].filter(
    Boolean,
  );
  const out = [
    `### ${n}. ${mdText(s.name)} (${mdCode(s.id)}): ${mdText(s.status)}${s.durationMs !== null ? ` in ${formatDuration(s.durationMs)}` : ''}${tags.length ? ` · ${tags.join(' · ')}` : ''}`,
    '',
  ];
  if (s.skipReason) out.push(`Skipped: ${mdText(s.skipReason)}`, '');
  if (s.decided !== undefined) out.push(`Cause: ${mdCode(s.decided)}`, '');
  if (s.outcome) out.push(`Outcome: **${mdText(s.outcome.status)}**: ${mdText(s.outcome.message)}`, '');
  const rows: string[][] = [];
  for (const h of s.hosts) {
    for (const a of h.attempts)
      rows.push([mdText(h.host), `**${mdText(a.status)}**`, exitText(a), formatDuration(a.durationMs), attemptText(a), mdText(a.time), detailText(a)]);
    if (h.unfinished) rows.push([mdText(h.host), '**started, not finished**', '', '', '', '', '']);
  }
  if (rows.length > 0) out.push(table(['Host', 'Status', 'Exit', 'Duration', 'Attempt', 'Time', 'Detail'], rows), '');
  if (s.next !== undefined && s.next !== null) out.push(`Next: ${mdCode(s.next)}`, '');
  return out;
}

function exitText(a: TimelineAttempt): string {
  if (a.exitCode !== null) return String(a.exitCode);
  return a.signal !== null ? mdText(a.signal) : '—';
}

function attemptText(a: TimelineAttempt): string {
  const parts = [a.attempt === 0 ? '—' : String(a.attempt)];
  if (a.iteration !== undefined) parts.push(`iteration ${a.iteration}`);
  if (a.phase) parts.push(a.phase);
  return parts.join(', ');
}

function detailText(a: TimelineAttempt): string {
  const parts: string[] = [];
  if (a.error) parts.push(mdText(a.error));
  if (a.reason) parts.push(mdText(a.reason));
  if (a.facts && Object.keys(a.facts).length > 0)
    parts.push(
      `facts: ${Object.entries(a.facts)
        .map(([k, v]) => `${mdText(k)}=${value(v)}`)
        .join(', ')}`,
    );
  if (a.outputs) parts.push(`output: ${mdLink(a.outputs.stdout)}`);
  return parts.join('; ');
}

function countHosts(m: ReportModel): string {
  const counts = new Map<string, number>();
  for (const s of Object.values(m.result.hosts)) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
  return [...counts].map(([k, v]) => `${v} ${k}`).join(', ') || 'none';
}

/** A relative link to a file of the run directory (works from report.md and in a zip of the directory). */
export function mdLink(path: string): string {
  return `[${mdText(path)}](${encodeURI(path).replace(/\(/g, '%28').replace(/\)/g, '%29')})`;
}

function summarySection(m: ReportModel): string[] {
  const s = m.summary;
  const out = ['## Summary', ''];
  out.push(`**Outcome: ${mdText(s.outcome)}** (exit ${s.exitCode}). Cause: ${s.cause === null ? 'none decided' : mdCode(s.cause)}.`, '');
  if (s.message) out.push(`> ${mdText(s.message)}`, '');
  const scope = m.result.scope;
  if (scope)
    out.push(
      `**Scope: --limit ${mdCode(scope.limit)}.** This verdict covers only ${mdText(scope.hosts.join(', '))}; not looked at: ${mdText(scope.excluded.join(', '))}.`,
      '',
    );
  if (s.hosts.length > 0)
    out.push(
      table(
        ['Host', 'Status'],
        s.hosts.map((h) => [mdText(h.host), `**${mdText(h.status)}**`]),
      ),
      '',
    );
  out.push('**What changed:**', '');
  if (s.changed.length === 0) out.push('- Nothing was changed on any host.');
  for (const c of s.changed) out.push(`- ${mdText(c)}`);
  out.push('', '**Left for people:**', '');
  if (s.leftForPeople.length === 0) out.push('- Nothing.');
  for (const l of s.leftForPeople) out.push(`- ${mdText(l)}`);
  out.push('');
  if (s.decisions.length > 0) {
    out.push('**Decisions (who, what, when, why):**', '');
    for (const d of s.decisions) out.push(`- ${mdText(d)}`);
    out.push('');
  }
  return out;
}

function phasesSection(m: ReportModel): string[] {
  const rows = m.phases.map((p) => [
    mdText(p.label),
    p.time === null ? '—' : mdText(p.time),
    p.atMs === null ? mdText(p.note ?? 'not reached') : `+${formatDuration(p.atMs)}`,
  ]);
  return ['## Phase timings', '', table(['Phase', 'Time (UTC)', 'Since run start'], rows), ''];
}

function evidenceSection(m: ReportModel): string[] {
  const out = ['## Evidence', ''];
  if (m.evidence.length === 0 && !m.diagnosis) return [...out, 'No evidence was recorded.', ''];
  let title = '';
  for (const e of m.evidence) {
    if (e.title !== title) {
      out.push(`### ${mdText(e.title)} (${mdCode(e.step)})`, '');
      title = e.title;
    }
    out.push(`${mdText(e.host)}:`, '', mdBlock(e.lines.join('\n')), '');
    if (e.omitted > 0)
      out.push(`… ${e.omitted} more line${e.omitted === 1 ? '' : 's'} cut here${e.output ? `: the full output is ${mdLink(e.output)}` : ''}.`, '');
  }
  if (m.diagnosis) out.push('The facts the decision read are under Diagnosis below.', '');
  return out;
}

function commandsSection(m: ReportModel): string[] {
  const out = ['## Commands run', ''];
  if (m.commands.length === 0) return [...out, 'No command ran on a host.', ''];
  for (const c of m.commands) {
    out.push(`### ${mdText(c.name)} (${mdCode(c.step)})${c.mutates ? ' · **mutates**' : ''}`, '');
    for (const g of c.groups) out.push(`On ${g.hosts.map(mdText).join(', ')}:`, '', mdBlock(g.command, 'sh'), '');
  }
  return out;
}
