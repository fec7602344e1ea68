// What the operator reads before answering: the evidence behind a decision, what a mutating step
// will do (confirm text, hosts, batch, exact commands, diffs), what a failure left. Pure text
// builders (colours optional); everything shown is already redacted by the executor.
import type { Presentation } from '../../engine/guided.js';
import type { ApprovalRequest, CauseRequest, FailureRequest, HostOutcome } from '../../engine/strategy.js';
import type { PlanStep } from '../../plan/types.js';
import { colors, formatDuration, paintStatus, type Colors } from '../format.js';
import { tailLines, type EvidenceLog } from './evidence.js';

export interface RenderContext {
  c?: Colors | undefined;
  /** The diagnosis so far (facts of every host, log lines, counts); absent: only the request. */
  evidence?: EvidenceLog | undefined;
  /** Absolute path of the run directory (failure outputs are relative to it). */
  runDir?: string | null | undefined;
  /** Lines of a command shown before "… N more lines" in summaries (details show all). */
  commandLines?: number | undefined;
  /** Terminal width: facts wrap and log lines are cut to it in summaries (default 100). */
  width?: number | undefined;
}

const SUMMARY_COMMAND_LINES = 12;
const SUMMARY_DIFF_LINES = 40;
const FAILURE_TAIL_LINES = 8;
const FULL_OUTPUT_LINES = 400;

export function renderPresentation(item: Presentation, ctx: RenderContext = {}): string {
  switch (item.kind) {
    case 'cause':
      return renderCause(item.req, ctx, false);
    case 'cause-details':
      return renderCause(item.req, ctx, true);
    case 'approval':
      return renderApproval(item.req, ctx, false);
    case 'approval-details':
      return renderApproval(item.req, ctx, true);
    case 'failure':
      return renderFailure(item.req, ctx, false);
    case 'failure-output':
      return renderFailure(item.req, ctx, true);
  }
}

/**
 * A heading line that stands out between live output and the prompt: one row at `width`. A long
 * step name is cut with `…` (the step id, the batch and the heading's kind never are).
 */
export function heading(c: Colors, label: string, step: PlanStep, extra = '', width = 80): string {
  const fixed = `${label}:  [${step.id}]${extra}`;
  // `━━ ` before and ` ━━━` after at least.
  const room = Math.max(10, Math.min(width, 200) - 7 - fixed.length);
  const name = step.name.length > room ? `${step.name.slice(0, room - 1)}…` : step.name;
  const text = `${label}: ${name} [${step.id}]${extra}`;
  return `${c.bold(c.cyan(`━━ ${text} `))}${c.cyan('━'.repeat(Math.max(3, Math.min(80, width) - 4 - text.length)))}`;
}

/**
 * A condition as one row of at most `room` characters: whitespace folded, and when still too
 * long, its middle left out (`…`). The end is kept whole where it can be: the shipped runbooks
 * put what a cause tests last (`.exists(m, !m.facts.mp_running)`), after a shared filter.
 */
export function foldCondition(text: string, room: number): string {
  // Only line breaks (and the indentation after them) fold: spaces inside string literals stay.
  const s = text.replace(/\s*\n\s*/g, ' ').trim();
  if (s.length <= room) return s;
  const budget = Math.max(20, room) - 1;
  // The tail from the earliest top-level `.call(` that fits: the whole of what the cause tests.
  let tailStart = -1;
  let depth = 0;
  for (let i = s.length - 1; i >= 0; i--) {
    const ch = s[i];
    if (ch === ')' || ch === ']') depth++;
    else if (ch === '(' || ch === '[') depth--;
    else if (depth === 0 && ch === '.' && s.length - i <= budget) tailStart = i;
  }
  if (tailStart < 0) {
    // No such call: the last half of the room, from a space when there is one.
    tailStart = s.length - Math.floor(budget / 2);
    const space = s.indexOf(' ', tailStart);
    if (space > 0 && space < s.length - 10) tailStart = space;
  }
  const tail = s.slice(tailStart);
  let head = s.slice(0, budget - tail.length);
  const space = head.lastIndexOf(' ');
  if (space > head.length / 2) head = head.slice(0, space);
  // A head of a few characters says nothing: the tail alone, marked as an end.
  if (head.length < 12) head = '';
  return `${head}…${tail}`;
}

/** `Label: a, b, c, +2 more (hint)` in one row of `width`: names that do not fit are counted. */
function fitList(label: string, names: readonly string[], hint: string, width: number): string {
  for (let n = names.length; n > 0; n--) {
    const more = names.length - n;
    const text = `${label}${names.slice(0, n).join(', ')}${more > 0 ? `, +${more} more` : ''} ${hint}`;
    if (text.length <= width || n === 1) return text;
  }
  return `${label}${hint}`;
}

/** `value` as one short line: strings bare (quoted when empty or spaced oddly), the rest as JSON. */
export function formatValue(value: unknown, max = 80): string {
  let s: string;
  if (typeof value === 'string') s = value === '' || value.trim() !== value ? JSON.stringify(value) : value.includes('\n') ? JSON.stringify(value) : value;
  else if (value === undefined) s = 'undefined';
  else s = JSON.stringify(value) ?? String(value);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** `k=v  k=v …`, wrapped at `width` with continuation lines indented by `indentBy`. */
function factLine(
  facts: Record<string, unknown>,
  options: { keys?: readonly string[] | undefined; max?: number; width?: number; indentBy?: number } = {},
): string {
  const names = options.keys ?? Object.keys(facts);
  const items = names.filter((k) => k in facts).map((k) => `${k}=${formatValue(facts[k], options.max ?? 60)}`);
  const width = options.width ?? Number.POSITIVE_INFINITY;
  const pad = ' '.repeat(options.indentBy ?? 0);
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    if (line !== '' && (options.indentBy ?? 0) + line.length + 2 + item.length > width) {
      lines.push(line);
      line = item;
    } else line = line === '' ? item : `${line}  ${item}`;
  }
  if (line !== '') lines.push(line);
  return lines.join(`\n${pad}`);
}

/** `text` in rows of at most `width` characters (split at spaces when it can), `rows` at most, the last cut with `…`. */
export function wrap(text: string, width: number, rows: number): string[] {
  const w = Math.max(20, width);
  const out: string[] = [];
  let rest = text;
  while (rest.length > w && out.length < rows - 1) {
    const space = rest.lastIndexOf(' ', w);
    const at = space > w / 2 ? space : w;
    out.push(rest.slice(0, at));
    rest = rest.slice(at).replace(/^ /, '');
  }
  out.push(rest.length > w ? `${rest.slice(0, w - 1)}…` : rest);
  return out;
}

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => `${by}${l}`)
    .join('\n');
}

function hostColumn(hosts: Iterable<string>): number {
  return Math.max(4, ...[...hosts].map((h) => h.length));
}

export function renderCause(req: CauseRequest, ctx: RenderContext, details: boolean): string {
  const c = ctx.c ?? colors(false);
  const width = ctx.width ?? 100;
  const out: string[] = [heading(c, 'Decision', req.step, '', width)];
  const chosen = req.candidates.find((k) => k.cause === req.cause);
  // Wrapped at spaces (the terminal would cut words); the cause, first, is painted afterwards.
  const concluded = wrap(`Concluded cause: ${req.cause}${chosen?.summary ? ` — ${chosen.summary}` : ''}`, width, Number.POSITIVE_INFINITY);
  concluded[0] = (concluded[0] ?? '').replace(`: ${req.cause}`, `: ${c.bold(c.yellow(req.cause))}`);
  out.push(concluded.join('\n'));
  // The summary folds the condition into one row (d shows it as written); the facts it read follow.
  const because = '  because this held: ';
  const condition = req.evidence.condition === null ? null : details ? req.evidence.condition : foldCondition(req.evidence.condition, width - because.length);
  out.push(condition !== null ? `${because}${c.dim(condition)}` : `  ${c.dim("no cause's condition held: this is the default")}`);
  // Hosts the condition read nothing of (another group's) are left out; hosts whose facts are
  // identical share one line (four dead MPs are one line, not four).
  const evidenceHosts = Object.keys(req.evidence.facts).filter((h) => Object.keys(req.evidence.facts[h] ?? {}).length > 0);
  if (evidenceHosts.length > 0) {
    out.push('', req.evidence.condition !== null ? 'Evidence (the facts the decision read):' : 'Evidence (the facts the conditions read):');
    const groups = groupHosts(evidenceHosts, (h) => req.evidence.facts[h] ?? {});
    const w = hostColumn(groups.map((g) => g.label));
    for (const g of groups) out.push(`  ${g.label.padEnd(w)}  ${factLine(g.value, { max: 400, width, indentBy: w + 4 })}`);
  }

  const log = ctx.evidence;
  if (log) {
    const all = log.facts();
    const shown = new Set(evidenceHosts.flatMap((h) => Object.keys(req.evidence.facts[h] ?? {}).map((k) => `${h}\0${k}`)));
    const rest = [...all]
      .map(([host, facts]) => [host, Object.fromEntries(Object.entries(facts).filter(([k]) => details || !shown.has(`${host}\0${k}`)))] as const)
      .filter(([, f]) => Object.keys(f).length > 0);
    let otherFacts = '';
    if (rest.length > 0 && details) {
      out.push('', 'Every fact gathered:');
      const w = hostColumn(rest.map(([h]) => h));
      for (const [host, facts] of rest) out.push(`  ${host.padEnd(w)}  ${factLine(facts, { max: 200, width, indentBy: w + 4 })}`);
    } else if (rest.length > 0) {
      const n = rest.reduce((sum, [, f]) => sum + Object.keys(f).length, 0);
      otherFacts = c.dim(` · ${n} other facts on ${rest.length} host${rest.length === 1 ? '' : 's'} (d shows them)`);
    }
    const lines = details ? log.logLines(20, 200) : log.logLines();
    if (lines.length > 0) {
      // Lines of one step name it once, in the heading: the room is the line's.
      const oneStep = lines.every((l) => l.step === lines[0]?.step) ? (lines[0]?.step ?? null) : null;
      // No blank line between the facts and the log lines: they are one body of evidence.
      if (evidenceHosts.length === 0) out.push('');
      out.push(oneStep !== null ? `Log lines from the diagnosis ${c.dim(`[${oneStep}]`)}:` : 'Log lines from the diagnosis:');
      const w = hostColumn(lines.map((l) => l.host));
      for (const l of lines) {
        // Wrapped, never cut, under the line's start: what a log line says is usually at its
        // end (nginx's `upstream: "https://…:port"`), after the timestamp and the pid.
        // Continuation rows start near the left edge: at 80 columns a deep indent would turn one
        // nginx line into six rows.
        const first = oneStep !== null ? `  ${l.host.padEnd(w)}  ` : `  ${l.host.padEnd(w)}  ${c.dim(`[${l.step}]`)} `;
        const lead = oneStep !== null ? w + 4 : w + l.step.length + 7;
        const pad = '      ';
        const room = Math.max(20, width - lead);
        const space = l.line.lastIndexOf(' ', room);
        const cut = l.line.length <= room ? l.line.length : space > room / 2 ? space : room;
        const rest = l.line.slice(cut).trimStart();
        const rows = rest === '' ? [] : wrap(rest, width - pad.length, Number.POSITIVE_INFINITY);
        out.push([`${first}${l.line.slice(0, cut)}`, ...rows.map((r) => `${pad}${r}`)].join('\n'));
      }
    }
    const counts = log.counts();
    const steps = log.diagnosis().length;
    if (steps > 0) {
      const parts = (['ok', 'failed', 'timed-out', 'unreachable', 'skipped'] as const)
        .filter((s) => counts[s] > 0)
        .map((s) => paintStatus(c, s, `${counts[s]} ${s}`));
      out.push('', `Diagnosis: ${steps} read-only step${steps === 1 ? '' : 's'} · ${parts.join(', ') || 'nothing ran'}${otherFacts}`);
    }
  }

  if (details) {
    out.push('', 'Candidate causes:');
    for (const k of req.candidates) {
      const mark = k.cause === req.cause ? c.yellow('▸') : ' ';
      out.push(
        `  ${mark} ${k.cause === req.cause ? c.bold(k.cause) : k.cause}${k.summary ? ` — ${k.summary}` : k.condition === null ? c.dim(' — the default') : ''}`,
      );
      if (k.condition !== null) out.push(`      ${c.dim(`when: ${k.condition}`)}`);
    }
  } else {
    const others = req.candidates.filter((k) => k.cause !== req.cause).map((k) => k.cause);
    if (others.length > 0) out.push(c.dim(fitList('Other causes: ', others, '(d: why not)', width)));
  }
  return out.join('\n');
}

/** Hosts whose values are identical, as one labelled group each ("mp-1, mp-2, mp-3"), first-seen order. */
export function groupHosts<T>(hosts: readonly string[], valueOf: (host: string) => T): { label: string; hosts: string[]; value: T }[] {
  const groups = new Map<string, { hosts: string[]; value: T }>();
  for (const h of hosts) {
    const value = valueOf(h);
    const key = JSON.stringify(value);
    const g = groups.get(key);
    if (g) g.hosts.push(h);
    else groups.set(key, { hosts: [h], value });
  }
  return [...groups.values()].map((g) => ({ ...g, label: g.hosts.join(', ') }));
}

/** Commands grouped by the hosts that would receive exactly the same ones. */
function groupCommands(req: ApprovalRequest): { hosts: string[]; commands: string[] }[] {
  const byHost = new Map<string, string[]>();
  for (const cmd of req.commands) byHost.set(cmd.host, [...(byHost.get(cmd.host) ?? []), cmd.command]);
  const groups = new Map<string, { hosts: string[]; commands: string[] }>();
  for (const host of req.hosts) {
    const commands = byHost.get(host) ?? [];
    const key = JSON.stringify(commands);
    const g = groups.get(key);
    if (g) g.hosts.push(host);
    else groups.set(key, { hosts: [host], commands });
  }
  return [...groups.values()];
}

/**
 * Groups whose text has the same shape (host names, digits and per-host path segments aside) fold
 * into the first: its hosts carry the others' as `alike`. Only for the summary; details show all.
 */
function alikeGroups<G extends { hosts: string[] }>(groups: readonly G[], textOf: (g: G) => string): (G & { alike: string[] })[] {
  const out: (G & { alike: string[] })[] = [];
  const byShape = new Map<string, G & { alike: string[] }>();
  for (const g of groups) {
    const shape = shapeOf(textOf(g), g.hosts);
    const first = byShape.get(shape);
    if (first) first.alike.push(...g.hosts);
    else {
      const entry = { ...g, alike: [] as string[] };
      byShape.set(shape, entry);
      out.push(entry);
    }
  }
  return out;
}

function shapeOf(text: string, hosts: readonly string[]): string {
  let s = text;
  for (const h of [...hosts].sort((a, b) => b.length - a.length)) s = s.split(h).join('\u0000');
  return s.replace(/\d+/g, '#');
}

function clip(text: string, lines: number, c: Colors, hint: string): string {
  const all = text.split('\n');
  if (all.length <= lines) return text;
  return `${all.slice(0, lines).join('\n')}\n${c.dim(`… ${all.length - lines} more lines (${hint})`)}`;
}

export function colorDiff(diff: string, c: Colors): string {
  return diff
    .split('\n')
    .map((l) =>
      l.startsWith('+++') || l.startsWith('---')
        ? c.bold(l)
        : l.startsWith('+')
          ? c.green(l)
          : l.startsWith('-')
            ? c.red(l)
            : l.startsWith('@@')
              ? c.cyan(l)
              : l,
    )
    .join('\n');
}

export function renderApproval(req: ApprovalRequest, ctx: RenderContext, details: boolean): string {
  const c = ctx.c ?? colors(false);
  const { step } = req;
  const batch = req.batch ? ` · batch ${req.batch.index}/${req.batch.count}` : '';
  const out: string[] = [heading(c, req.rollback ? 'Rollback' : 'Approval', step, batch, ctx.width ?? 100)];
  if (req.confirm) out.push(c.yellow(c.bold(req.confirm.trim())));
  out.push(`Hosts (${req.hosts.length}): ${c.bold(req.hosts.join(', '))}${batch ? c.dim(`  (rolling batch ${req.batch?.index} of ${req.batch?.count})`) : ''}`);
  if (details) {
    out.push(`Step ${step.id}, ${step.kind}, written at ${step.source.file}:${step.source.line}:${step.source.col}`);
    if (step.whenText ?? step.when) out.push(`  when: ${step.whenText ?? step.when}`);
    const limits = [
      step.timeoutMs !== null ? `timeout ${formatDuration(step.timeoutMs)}` : '',
      step.retries > 0 ? `${step.retries} retries` : '',
      `on_failure ${step.onFailure.action}${step.onFailure.action === 'goto' ? ` ${step.onFailure.step}` : ''}`,
    ].filter(Boolean);
    out.push(`  ${limits.join(' · ')}`);
    if (step.rollback.length > 0) out.push(`  rollback: ${step.rollback.map((r) => `${r.name} [${r.id}]`).join(', ')}`);
    out.push(`  plan ${req.planHash}`);
  }
  const diffHosts = req.hosts.filter((h) => req.diffs[h] !== undefined);
  const groups = groupCommands(req);
  if (groups.some((g) => g.commands.length > 0) && (diffHosts.length === 0 || details)) {
    // The summary shows one command per shape: hosts whose commands differ only in their own
    // name, paths and ports are listed as alike (d shows each in full).
    const shown = details ? groups.map((x) => ({ ...x, alike: [] as string[] })) : alikeGroups(groups, (x) => x.commands.join('\n'));
    const label = (g: { hosts: string[] }): string =>
      c.bold(g.hosts.length === req.hosts.length && req.hosts.length > 1 ? `every host (${g.hosts.join(', ')})` : g.hosts.join(', '));
    // One group: its hosts go in the section's own line (one row less on a full screen).
    if (shown.length !== 1) out.push('Commands:');
    for (const g of shown) {
      out.push(shown.length === 1 ? `Commands on ${label(g)}:` : `  ${label(g)}:`);
      const by = shown.length === 1 ? '  ' : '    ';
      for (const cmd of g.commands) out.push(indent(details ? cmd : clip(cmd, ctx.commandLines ?? SUMMARY_COMMAND_LINES, c, 'd shows all'), by));
      if (g.alike.length > 0) out.push(c.dim(`  [${g.alike.join(', ')} alike: the same with their own host name, paths and ports; d shows each]`));
    }
  }
  const diffGroups = groupHosts(diffHosts, (h) => req.diffs[h] as string);
  for (const g of details ? diffGroups.map((x) => ({ ...x, alike: [] as string[] })) : alikeGroups(diffGroups, (x) => x.value)) {
    const diff = g.value;
    out.push('', `Changes on ${c.bold(g.label)}:`, indent(colorDiff(details ? diff : clip(diff, SUMMARY_DIFF_LINES, c, 'd shows all'), c), '  '));
    if (g.alike.length > 0) out.push(c.dim(`  [${g.alike.join(', ')} alike: the same edit with their own paths and values; d shows each]`));
  }
  return out.join('\n');
}

function describeFailure(f: HostOutcome, c: Colors): string {
  const how = f.status === 'timed-out' ? 'timed out' : f.verification ? 'its verify check failed' : 'failed';
  const exit = f.exitCode !== null ? `, exit ${f.exitCode}` : '';
  return `${paintStatus(c, f.status, f.host)}: ${how}${exit}${f.error ? ` — ${f.error}` : ''}`;
}

function outputSection(label: string, file: string | null, lines: number, c: Colors, note: boolean): string[] {
  const text = tailLines(file, lines + 1);
  if (text.length === 0) return [];
  const cut = text.length > lines;
  const shown = cut ? text.slice(-lines) : text;
  return [`    ${c.dim(`${label}${cut ? ` (last ${lines} lines${note && file ? `; all of it in ${file}` : ''})` : ''}:`)}`, ...shown.map((l) => `      ${l}`)];
}

export function renderFailure(req: FailureRequest, ctx: RenderContext, full: boolean): string {
  const c = ctx.c ?? colors(false);
  const batch = req.batch ? ` · batch ${req.batch.index}/${req.batch.count}` : '';
  const out: string[] = [heading(c, full ? 'Output' : 'Failed', req.step, batch, ctx.width ?? 100)];
  const abs = (rel: string): string | null => (ctx.runDir && rel !== '' ? `${ctx.runDir}/${rel}` : null);
  for (const f of req.failed) {
    out.push(`  ${describeFailure(f, c)}`);
    if (f.outputs) {
      const n = full ? FULL_OUTPUT_LINES : FAILURE_TAIL_LINES;
      out.push(...outputSection('stderr', abs(f.outputs.stderr), n, c, full), ...outputSection('stdout', abs(f.outputs.stdout), n, c, full));
    }
  }
  if (req.unreachable.length > 0) out.push(`  ${paintStatus(c, 'unreachable', 'unreachable')}: ${req.unreachable.join(', ')}`);
  if (!full) {
    const policy = req.policy.action === 'goto' ? `goto ${req.policy.step}` : req.policy.action;
    const bits = [
      `on_failure: ${policy}`,
      req.canRollback ? `rollback: ${req.step.rollback.map((r) => r.id).join(', ')}` : 'no rollback steps',
      req.withinThresholds ? 'within the failure thresholds' : 'beyond the failure thresholds',
    ];
    if (req.retried > 0) out.push(`  ${c.dim(`retried ${req.retried} time${req.retried === 1 ? '' : 's'} already`)}`);
    out.push(`The runbook says: ${bits.join(' · ')}`);
  }
  return out.join('\n');
}
