// What the operator reads before answering: the evidence behind a decision, what a mutating step
// will do (confirm text, hosts, batch, exact commands, diffs), what a failure left. Pure text
// builders (colours optional); everything shown is already redacted by the executor.
import type { Presentation } from '../../engine/guided.js';
import type { ApprovalRequest, CauseRequest, FailureRequest, HostFailure } from '../../engine/strategy.js';
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

/** A heading line that stands out between live output and the prompt. */
export function heading(c: Colors, label: string, step: PlanStep, extra = ''): string {
  const text = `${label}: ${step.name} [${step.id}]${extra}`;
  return `${c.bold(c.cyan(`━━ ${text} `))}${c.cyan('━'.repeat(Math.max(3, 76 - text.length)))}`;
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
function factLine(facts: Record<string, unknown>, options: { keys?: readonly string[] | undefined; max?: number; width?: number; indentBy?: number } = {}): string {
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
  const out: string[] = [heading(c, 'Decision', req.step)];
  const chosen = req.candidates.find((k) => k.cause === req.cause);
  out.push(`Concluded cause: ${c.bold(c.yellow(req.cause))}${chosen?.summary ? ` — ${chosen.summary}` : ''}`);
  out.push(req.evidence.condition !== null ? `  because this held: ${c.dim(req.evidence.condition)}` : `  ${c.dim('no cause\'s condition held: this is the default')}`);

  const width = ctx.width ?? 100;
  // Hosts the condition read nothing of (another group's) are left out.
  const evidenceHosts = Object.keys(req.evidence.facts).filter((h) => Object.keys(req.evidence.facts[h] ?? {}).length > 0);
  if (evidenceHosts.length > 0) {
    out.push('', req.evidence.condition !== null ? 'Evidence (the facts the condition read):' : 'Evidence (the facts the conditions read):');
    const w = hostColumn(evidenceHosts);
    for (const host of evidenceHosts) out.push(`  ${host.padEnd(w)}  ${factLine(req.evidence.facts[host] ?? {}, { width, indentBy: w + 4 })}`);
  }

  const log = ctx.evidence;
  if (log) {
    const all = log.facts();
    const shown = new Set(evidenceHosts.flatMap((h) => Object.keys(req.evidence.facts[h] ?? {}).map((k) => `${h}\0${k}`)));
    const rest = [...all].map(([host, facts]) => [host, Object.fromEntries(Object.entries(facts).filter(([k]) => details || !shown.has(`${host}\0${k}`)))] as const).filter(([, f]) => Object.keys(f).length > 0);
    if (rest.length > 0) {
      out.push('', details ? 'Every fact gathered:' : 'Other facts gathered:');
      const w = hostColumn(rest.map(([h]) => h));
      for (const [host, facts] of rest) out.push(`  ${host.padEnd(w)}  ${factLine(facts, { max: details ? 200 : 40, width, indentBy: w + 4 })}`);
    }
    const lines = details ? log.logLines(20, 200) : log.logLines();
    if (lines.length > 0) {
      out.push('', 'Log lines from the diagnosis:');
      const w = hostColumn(lines.map((l) => l.host));
      for (const l of lines) {
        // Wrapped under the line's start (up to 3 rows in the summary): what a log line says is
        // usually at its end, after the timestamp and the pid.
        const first = `  ${l.host.padEnd(w)}  ${c.dim(`[${l.step}]`)} `;
        const pad = ' '.repeat(w + l.step.length + 7);
        out.push(details ? `${first}${l.line}` : `${first}${wrap(l.line, width - pad.length, 3).join(`\n${pad}`)}`);
      }
    }
    const counts = log.counts();
    const steps = log.diagnosis().length;
    if (steps > 0) {
      const parts = (['ok', 'failed', 'timed-out', 'unreachable', 'skipped'] as const).filter((s) => counts[s] > 0).map((s) => paintStatus(c, s, `${counts[s]} ${s}`));
      out.push('', `Diagnosis: ${steps} read-only step${steps === 1 ? '' : 's'} · ${parts.join(', ') || 'nothing ran'}`);
    }
  }

  out.push('', 'Candidate causes:');
  for (const k of req.candidates) {
    const mark = k.cause === req.cause ? c.yellow('▸') : ' ';
    out.push(`  ${mark} ${k.cause === req.cause ? c.bold(k.cause) : k.cause}${k.summary ? ` — ${k.summary}` : k.condition === null ? c.dim(' — the default') : ''}`);
    if (details && k.condition !== null) out.push(`      ${c.dim(`when: ${k.condition}`)}`);
  }
  return out.join('\n');
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

function clip(text: string, lines: number, c: Colors, hint: string): string {
  const all = text.split('\n');
  if (all.length <= lines) return text;
  return `${all.slice(0, lines).join('\n')}\n${c.dim(`… ${all.length - lines} more lines (${hint})`)}`;
}

export function colorDiff(diff: string, c: Colors): string {
  return diff
    .split('\n')
    .map((l) => (l.startsWith('+++') || l.startsWith('---') ? c.bold(l) : l.startsWith('+') ? c.green(l) : l.startsWith('-') ? c.red(l) : l.startsWith('@@') ? c.cyan(l) : l))
    .join('\n');
}

export function renderApproval(req: ApprovalRequest, ctx: RenderContext, details: boolean): string {
  const c = ctx.c ?? colors(false);
  const { step } = req;
  const batch = req.batch ? ` · batch ${req.batch.index}/${req.batch.count}` : '';
  const out: string[] = [heading(c, req.rollback ? 'Rollback' : 'Approval', step, batch)];
  if (req.confirm) out.push(c.yellow(c.bold(req.confirm.trim())));
  out.push(`Hosts (${req.hosts.length}): ${c.bold(req.hosts.join(', '))}${batch ? c.dim(`  (rolling batch ${req.batch?.index} of ${req.batch?.count})`) : ''}`);
  if (details) {
    out.push(`Step ${step.id}, ${step.kind}, written at ${step.source.file}:${step.source.line}:${step.source.col}`);
    if (step.whenText ?? step.when) out.push(`  when: ${step.whenText ?? step.when}`);
    const limits = [step.timeoutMs !== null ? `timeout ${formatDuration(step.timeoutMs)}` : '', step.retries > 0 ? `${step.retries} retries` : '', `on_failure ${step.onFailure.action}${step.onFailure.action === 'goto' ? ` ${step.onFailure.step}` : ''}`].filter(Boolean);
    out.push(`  ${limits.join(' · ')}`);
    if (step.rollback.length > 0) out.push(`  rollback: ${step.rollback.map((r) => `${r.name} [${r.id}]`).join(', ')}`);
    out.push(`  plan ${req.planHash}`);
  }
  const diffHosts = req.hosts.filter((h) => req.diffs[h] !== undefined);
  const groups = groupCommands(req);
  if (groups.some((g) => g.commands.length > 0) && (diffHosts.length === 0 || details)) {
    out.push('', 'Commands:');
    for (const g of groups) {
      out.push(`  ${c.bold(g.hosts.length === req.hosts.length && req.hosts.length > 1 ? `every host (${g.hosts.join(', ')})` : g.hosts.join(', '))}:`);
      for (const cmd of g.commands) out.push(indent(details ? cmd : clip(cmd, ctx.commandLines ?? SUMMARY_COMMAND_LINES, c, 'd shows all'), '    '));
    }
  }
  for (const host of diffHosts) {
    const diff = req.diffs[host] as string;
    out.push('', `Changes on ${c.bold(host)}:`, indent(colorDiff(details ? diff : clip(diff, SUMMARY_DIFF_LINES, c, 'd shows all'), c), '  '));
  }
  return out.join('\n');
}

function describeFailure(f: HostFailure, c: Colors): string {
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
  const out: string[] = [heading(c, full ? 'Output' : 'Failed', req.step, batch)];
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
    const bits = [`on_failure: ${policy}`, req.canRollback ? `rollback: ${req.step.rollback.map((r) => r.id).join(', ')}` : 'no rollback steps', req.withinThresholds ? 'within the failure thresholds' : 'beyond the failure thresholds'];
    if (req.retried > 0) out.push(`  ${c.dim(`retried ${req.retried} time${req.retried === 1 ? '' : 's'} already`)}`);
    out.push(`The runbook says: ${bits.join(' · ')}`);
  }
  return out.join('\n');
}
