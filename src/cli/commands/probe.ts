// remedy plan --probe: the executor runs the read-only diagnosis for real (probe strategy: no
// mutation is ever approved, no lock taken) and the plan of mutations that would follow is
// printed with facts filled in and properties diffs read from the real files. The session
// (transports, Ctrl-C) is src/session/probe.ts's; this file renders.
import pc from 'picocolors';
import type { ProbeResult, ProbeStepPreview } from '../../engine/index.js';
import type { PlannedInputs } from '../../session/inputs.js';
import { probeSession } from '../../session/probe.js';
import { colorEnabled } from '../../ui/format.js';
import { PlainSink } from '../../ui/plain.js';

export interface ProbeCliOptions {
  format: 'text' | 'json' | 'markdown' | 'mermaid';
  knownHosts?: string | undefined;
  acceptNewHostKeys?: boolean | undefined;
  serverAliveInterval?: number | undefined;
  serverAliveCountMax?: number | undefined;
  runDir?: string | undefined;
  forks: number;
  /** The complete `remedy run … --yes --plan-hash` line printed at the end. */
  applyCommand: string;
}

export async function runProbe(inputs: PlannedInputs, opts: ProbeCliOptions): Promise<number> {
  const json = opts.format === 'json';
  // Live progress goes to stderr, so stdout carries only the result (JSON stays parseable).
  const result = await probeSession(inputs, { ...opts, sinks: [new PlainSink(process.stderr, { color: colorEnabled(process.stderr) })] });
  if (json) {
    process.stdout.write(`${JSON.stringify(probeToJson(inputs, result), null, 2)}\n`);
  } else {
    process.stdout.write(renderProbeText(result, colorEnabled(process.stdout), opts.applyCommand));
  }
  // The exit code is the one its run-end records, as for `remedy run` without --yes: 0 nothing to
  // do, 3 escalated, 5 stopped before a fix that would run, 4 unreachable, 1 failed.
  return result.exitCode;
}

export function probeToJson(inputs: PlannedInputs, r: ProbeResult): Record<string, unknown> {
  return {
    runbook: r.runbook,
    planHash: r.planHash,
    cause: r.cause,
    diagnosis: r.outcome,
    stoppedAt: r.stoppedAt,
    hosts: r.hosts,
    facts: r.facts,
    mutations: r.mutations,
    steps: r.steps,
    params: inputs.plan.params,
  };
}

function renderProbeText(r: ProbeResult, color: boolean, applyCommand: string): string {
  const c = pc.createColors(color);
  const out: string[] = [];
  out.push('', c.bold(`Probe of ${r.runbook}`), `  plan hash  ${r.planHash}`);
  out.push(`  cause      ${r.cause === null ? c.dim('(no decision step ran)') : c.bold(c.magenta(r.cause))}`);
  const unreachable = Object.entries(r.hosts)
    .filter(([, s]) => s === 'unreachable')
    .map(([h]) => h);
  if (unreachable.length > 0) out.push(`  ${c.red('unreachable')} ${unreachable.join(', ')}`);
  if (r.stoppedAt === null) {
    out.push('', r.mutations.length === 0 ? c.green('No mutating step would run: the runbook would change nothing.') : '');
  } else {
    out.push('', `Stopped before ${c.bold(r.stoppedAt)}. The run would then make ${r.mutations.length} change${r.mutations.length === 1 ? '' : 's'}:`);
  }
  for (const step of r.steps) out.push(...renderPreview(step, c));
  out.push('', c.dim('Nothing was changed. Apply exactly this plan with:'), `  ${applyCommand}`, '');
  return out.join('\n');
}

function renderPreview(s: ProbeStepPreview, c: ReturnType<typeof pc.createColors>): string[] {
  const runs = s.hosts.length > 0 || s.undetermined.length > 0;
  if (!runs) return [];
  const mark = s.mutates ? c.bgRed(c.white(' MUTATES ')) : c.dim('read-only');
  const out = [`  ${mark} ${c.bold(s.id)} — ${s.name}`];
  if (s.condition) out.push(`      when      ${s.condition}`);
  if (s.hosts.length > 0) out.push(`      on        ${s.hosts.join(', ')}`);
  if (s.undetermined.length > 0) out.push(`      maybe on  ${s.undetermined.join(', ')} ${c.dim('(decided by facts gathered later)')}`);
  if (s.unchanged.length > 0) out.push(`      unchanged ${s.unchanged.join(', ')} ${c.dim('(already as wanted)')}`);
  if (s.confirm) out.push(`      confirm   ${c.yellow(s.confirm)}`);
  for (const cmd of s.commands) out.push(`      ${c.dim(cmd.host)} $ ${cmd.command.split('\n').join(`\n      ${' '.repeat(cmd.host.length)}   `)}`);
  for (const [host, diff] of Object.entries(s.diffs))
    out.push(`      ${c.dim(host)}`, ...diff.split('\n').map((l) => `        ${l.startsWith('+') ? c.green(l) : l.startsWith('-') ? c.red(l) : l}`));
  if (s.note) out.push(`      ${c.dim(s.note)}`);
  return out;
}
