// `remedy plan` for people: every step in order with its hosts, the exact commands (hosts with
// identical commands grouped), conditions in words, approvals, batches; mutating steps stand out.
import pc from 'picocolors';
import { describeStep } from './describe.js';
import type { Plan, PlanStep } from './types.js';

export interface TextOptions {
  color: boolean;
  /** The complete command that applies exactly this plan (built by the CLI, which knows the arguments). */
  applyCommand?: string | undefined;
}

type Paint = (s: string) => string;

export function renderPlanText(plan: Plan, options: TextOptions): string {
  const c = palette(options.color);
  const out: string[] = [];
  const mutating = countSteps(plan.steps, (s) => s.mutates);
  out.push(`${c.bold(`Plan for ${plan.runbook}`)}  ${c.dim(plan.summary)}`);
  out.push(`  plan hash  ${plan.planHash}`);
  out.push(`  hosts      ${plan.hosts.length} (${abbreviate(plan.hosts, 12)})`);
  out.push(`  steps      ${countSteps(plan.steps, () => true)}, ${mutating} mutating`);
  const params = Object.entries(plan.params);
  if (params.length > 0) out.push(`  params     ${params.map(([k, v]) => `${k}=${String(v)}`).join('  ')}`);
  if (plan.causes.length > 0) out.push(`  causes     ${plan.causes.join(', ')}`);
  out.push('');
  plan.steps.forEach((step, i) => out.push(...renderStep(step, `${i + 1}.`, '', c)));
  for (const w of plan.warnings) out.push(c.yellow(`warning: ${w}`));
  out.push(c.dim('Nothing was run. Apply exactly this plan with:'));
  out.push(`  ${options.applyCommand ?? `remedy run ${plan.runbook} -i INVENTORY --yes --plan-hash ${plan.planHash}`}`);
  return `${out.join('\n')}\n`;
}

function renderStep(step: PlanStep, number: string, indent: string, c: Palette): string[] {
  const out: string[] = [];
  const mark = step.mutates ? c.mutating(' MUTATES ') : c.dim('read-only');
  out.push(`${indent}${c.bold(number)} ${mark} ${c.bold(step.id)} ${c.dim('—')} ${step.name} ${c.dim(`[${step.kind}]`)}`);
  const pad = `${indent}   `;
  if (step.whenText) out.push(`${pad}${c.cyan('when')}     ${step.whenText}`);
  if (step.hostPattern !== null)
    out.push(`${pad}${c.cyan('hosts')}    ${step.hostPattern} → ${step.hosts.length === 0 ? c.yellow('no host') : abbreviate(step.hosts, 10)}`);
  if (step.confirm) out.push(`${pad}${c.cyan('confirm')}  ${c.yellow(step.confirm)}`);
  if (step.batches) {
    out.push(`${pad}${c.cyan('batches')}  ${step.batches.map((b) => `[${b.join(' ')}]`).join(' → ')}`);
  }
  const controls = controlsOf(step);
  if (controls) out.push(`${pad}${c.cyan('controls')} ${controls}`);
  if (step.become !== null && step.become !== false) out.push(`${pad}${c.cyan('become')}   ${step.become === true ? 'inventory become_user' : step.become}`);
  for (const group of groupCommands(step)) {
    out.push(`${pad}${c.dim(abbreviate(group.hosts, 6))}`);
    for (const line of group.command.split('\n')) out.push(`${pad}  ${step.mutates ? c.mutating('$') : c.dim('$')} ${line}`);
  }
  if (step.diff)
    for (const line of step.diff.split('\n')) out.push(`${pad}  ${line.startsWith('+') ? c.green(line) : line.startsWith('-') ? c.red(line) : line}`);
  for (const d of describeStep(step).details) {
    if (d.kind === 'ends') out.push(`${pad}  ${c.bold(`ends the run: ${d.status}`)} — ${d.message}`);
    else if (d.when === null) out.push(`${pad}  ${c.magenta(`→ ${d.cause}`)} otherwise`);
    else out.push(`${pad}  ${c.magenta(`→ ${d.cause}`)} if ${d.when}${d.summary ? c.dim(`  (${d.summary})`) : ''}`);
  }
  if (step.rollback.length > 0) {
    out.push(`${pad}${c.cyan('on failure, roll back:')}`);
    step.rollback.forEach((r, i) => out.push(...renderStep(r, `${number}r${i + 1}`, `${pad}  `, c)));
  }
  return out;
}

function controlsOf(step: PlanStep): string {
  const parts: string[] = [];
  if (step.timeoutMs !== null) parts.push(`timeout ${ms(step.timeoutMs)}`);
  if (step.retries > 0) parts.push(`retries ${step.retries}${step.delayMs ? ` every ${ms(step.delayMs)}` : ''}`);
  if (step.repeat) parts.push(`repeat ×${step.repeat.count}${step.repeat.intervalMs ? ` every ${ms(step.repeat.intervalMs)}` : ''}`);
  if (step.maxUnavailable !== null) parts.push(`max unavailable ${step.maxUnavailable}`);
  if (step.maxFailPercentage !== null) parts.push(`max fail ${step.maxFailPercentage}%`);
  if (step.onFailure.action !== 'abort') parts.push(`on failure ${step.onFailure.action === 'goto' ? `goto ${step.onFailure.step}` : 'continue'}`);
  if (Object.keys(step.capture).length > 0) parts.push(`captures ${Object.keys(step.capture).join(', ')}`);
  return parts.join(', ');
}

/** Hosts that would receive byte-identical commands are listed together. */
export function groupCommands(step: PlanStep): { hosts: string[]; command: string }[] {
  const groups = new Map<string, string[]>();
  for (const { host, command } of step.commands) {
    const list = groups.get(command);
    if (list) list.push(host);
    else groups.set(command, [host]);
  }
  return [...groups].map(([command, hosts]) => ({ hosts: [...new Set(hosts)], command }));
}

function ms(value: number): string {
  if (value % 3_600_000 === 0) return `${value / 3_600_000}h`;
  if (value % 60_000 === 0) return `${value / 60_000}m`;
  if (value % 1000 === 0) return `${value / 1000}s`;
  return `${value}ms`;
}

function abbreviate(items: string[], max: number): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')}, … +${items.length - max} more`;
}

function countSteps(steps: PlanStep[], pred: (s: PlanStep) => boolean): number {
  return steps.reduce((n, s) => n + (pred(s) ? 1 : 0), 0);
}

interface Palette {
  bold: Paint;
  dim: Paint;
  cyan: Paint;
  yellow: Paint;
  green: Paint;
  red: Paint;
  magenta: Paint;
  mutating: Paint;
}

function palette(color: boolean): Palette {
  const p = pc.createColors(color);
  return {
    bold: p.bold,
    dim: p.dim,
    cyan: p.cyan,
    yellow: p.yellow,
    green: p.green,
    red: p.red,
    magenta: p.magenta,
    mutating: (s) => (color ? p.bgRed(p.white(p.bold(s))) : s),
  };
}
