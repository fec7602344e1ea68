// One command on one host: host-start, live output into files and events, classification of
// the result (ok / failed / timed-out / unreachable). Callers decide retries and emit host-end,
// because only they know whether this attempt is the host's last for the step.
import { UnreachableError } from '../errors.js';
import type { Host } from '../inventory/types.js';
import { renderHostCommand } from '../plan/render-host.js';
import type { PlanStep } from '../plan/types.js';
import type { WrappedCommand } from '../shell/become.js';
import type { ExecResult, KillReport } from '../transport/types.js';
import { errorMessage, runtimeFor, type Engine } from './context.js';
import type { HostEvidence, HostStatus } from './events.js';
import type { HostOutcome } from './strategy.js';

export interface AttemptMeta {
  attempt: number;
  iteration?: number | undefined;
  phase?: 'verify' | undefined;
}

export interface Attempt extends AttemptMeta {
  status: Exclude<HostStatus, 'changed' | 'skipped'>;
  result: ExecResult | null;
  error?: string | undefined;
  outputs?: { stdout: string; stderr: string } | undefined;
  durationMs: number;
}

export interface ExecRequest extends AttemptMeta {
  step: PlanStep;
  host: Host;
  command: WrappedCommand;
  /** Shown in host-start instead of the command (e.g. `edit FILE`); the command is never shown when it carries data. */
  display?: string | undefined;
  /** Data for stdin after the become password line. */
  stdin?: string | undefined;
  timeoutMs?: number | null | undefined;
  /** Output file label, to keep attempts, iterations and phases apart. */
  label?: string | undefined;
  /** Emit host-start (default true). Internal reads (lock, file read) run silently. */
  announce?: boolean | undefined;
}

export function attemptLabel(meta: AttemptMeta): string {
  const parts: string[] = [];
  if (meta.phase) parts.push(meta.phase);
  if (meta.iteration !== undefined) parts.push(`i${meta.iteration}`);
  if (meta.attempt > 1) parts.push(`a${meta.attempt}`);
  return parts.join('.');
}

export async function execAttempt(e: Engine, req: ExecRequest): Promise<Attempt> {
  const { step, host } = req;
  const meta: AttemptMeta = { attempt: req.attempt, iteration: req.iteration, phase: req.phase };
  const announce = req.announce !== false;
  if (announce) {
    e.emitter.emit({
      type: 'host-start',
      step: step.id,
      host: host.name,
      attempt: req.attempt,
      iteration: req.iteration,
      command: req.display ?? req.command.command,
      phase: req.phase,
    });
  }
  e.state.attempted.add(host.name);
  const started = e.clock.now();
  const recorders = announce
    ? e.outputs.open(step.id, host.name, req.label ?? attemptLabel(meta), (stream, line) =>
        e.emitter.emit({ type: 'host-output', step: step.id, host: host.name, stream, line }),
      )
    : null;
  const stdin = req.command.stdinPrefix !== undefined || req.stdin !== undefined ? `${req.command.stdinPrefix ?? ''}${req.stdin ?? ''}` : undefined;
  let result: ExecResult | null = null;
  let thrown: unknown = null;
  try {
    result = await e.transports.get(host).exec(req.command.command, {
      timeoutMs: req.timeoutMs ?? undefined,
      stdin,
      signal: e.kill,
      killPath: req.command.killPath,
      onStdout: recorders ? (chunk) => recorders.stdout.write(chunk) : undefined,
      onStderr: recorders ? (chunk) => recorders.stderr.write(chunk) : undefined,
    });
  } catch (err) {
    thrown = err;
  }
  let outputs: Attempt['outputs'];
  if (recorders) {
    const [stdout, stderr] = await Promise.all([recorders.stdout.close(), recorders.stderr.close()]);
    if (stdout !== null || stderr !== null) outputs = { stdout: stdout ?? '', stderr: stderr ?? '' };
  }
  const durationMs = Math.round(e.clock.now() - started);
  if (thrown !== null) {
    if (thrown instanceof UnreachableError) {
      e.state.drop(host.name, 'unreachable');
      return { ...meta, status: 'unreachable', result: null, error: thrown.message, outputs, durationMs };
    }
    return { ...meta, status: 'failed', result: null, error: errorMessage(thrown), outputs, durationMs };
  }
  const r = result as ExecResult;
  e.state.reached.add(host.name);
  if (r.timedOut)
    return { ...meta, status: 'timed-out', result: r, error: `timed out after ${req.timeoutMs ?? '?'} ms; ${describeKill(r.kill)}`, outputs, durationMs };
  if (r.exitCode === 0) return { ...meta, status: 'ok', result: r, outputs, durationMs };
  const error = r.aborted
    ? 'interrupted: the command was killed'
    : r.exitCode !== null
      ? `exit code ${r.exitCode}`
      : r.signal !== null
        ? `killed by signal ${r.signal}${e.kill.aborted ? ' (interrupted)' : ''}`
        : 'no exit status (connection lost?)';
  return { ...meta, status: 'failed', result: r, error, outputs, durationMs };
}

/** What the kill of a timed-out command did, as the host confirmed it (never more). */
export function describeKill(kill: KillReport | undefined): string {
  if (kill === undefined) return 'the command could not be signalled (the host did not answer): it may still be running there';
  const how = `${kill.signals.join(', then ')} through ${kill.via}`;
  if (kill.left === null) return `signalled ${how}; whether anything of it is still running could not be checked`;
  if (kill.left.length === 0) return `killed (${how}); nothing of it is left running`;
  return `signalled ${how}, but ${kill.left.length} of its processes ${kill.left.length === 1 ? 'is' : 'are'} still running (pid ${kill.left.join(', ')})`;
}

export interface EndExtras {
  status?: HostStatus | undefined;
  final: boolean;
  facts?: Record<string, unknown> | undefined;
  unsetFacts?: string[] | undefined;
  diff?: string | undefined;
  artifacts?: { path: string; bytes: number; sha256: string }[] | undefined;
  error?: string | undefined;
  reason?: string | undefined;
}

/** The lines of an attempt's output that the step's `evidence:` selects, cut to its max_lines. */
export function evidenceOf(step: PlanStep, attempt: Attempt): HostEvidence | undefined {
  const spec = step.evidence;
  if (spec === null || attempt.result === null || attempt.phase !== undefined) return undefined;
  const text = spec.from === 'stderr' ? attempt.result.stderr : attempt.result.stdout;
  const filter = spec.lines === null ? null : new RegExp(spec.lines);
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && (filter === null || filter.test(l)));
  if (lines.length === 0) return undefined;
  const kept = lines.slice(0, spec.maxLines);
  return {
    title: spec.title,
    lines: kept,
    omitted: lines.length - kept.length,
    output: spec.from === 'stderr' ? attempt.outputs?.stderr : attempt.outputs?.stdout,
  };
}

export function endAttempt(e: Engine, step: PlanStep, host: string, attempt: Attempt, extras: EndExtras): void {
  e.emitter.emit({
    type: 'host-end',
    step: step.id,
    host,
    status: extras.status ?? attempt.status,
    attempt: attempt.attempt,
    iteration: attempt.iteration,
    phase: attempt.phase,
    exitCode: attempt.result?.exitCode ?? null,
    signal: attempt.result?.signal ?? null,
    durationMs: attempt.durationMs,
    facts: extras.facts && Object.keys(extras.facts).length > 0 ? extras.facts : undefined,
    unsetFacts: extras.unsetFacts,
    outputs: attempt.outputs,
    artifacts: extras.artifacts,
    diff: extras.diff || undefined,
    evidence: evidenceOf(step, attempt),
    error: extras.error ?? (attempt.status === 'ok' ? undefined : attempt.error),
    reason: extras.reason,
    final: extras.final || undefined,
  });
}

/** A host-end for a host that did not run the step (its condition, an approval, an earlier failure). */
export function emitSkipped(e: Engine, step: PlanStep, host: string, reason: string, status: HostStatus = 'skipped'): void {
  e.emitter.emit({ type: 'host-end', step: step.id, host, status, attempt: 0, exitCode: null, signal: null, durationMs: 0, reason, final: true });
}

export function outcomeOf(host: string, a: Attempt, status: HostStatus = a.status, verification = false): HostOutcome {
  return { host, status, exitCode: a.result?.exitCode ?? null, error: a.error, outputs: a.outputs, verification };
}

/** Renders a template for a host at run time (real facts and secrets), wrapped for become. */
export function renderForHost(e: Engine, step: PlanStep, host: Host, template: string, become?: string | null): WrappedCommand {
  return renderHostCommand(e.plan, step, host, template, runtimeFor(e, host.name), become);
}

/**
 * The final host-end of a host where the step ended before any command ran: a template that
 * cannot be rendered, a file that cannot be read before approval, a lease lost to another worker.
 * No exit code, no time spent. `announce` journals the host-start first, for callers that have
 * not (a host-end never stands without one in the journal's view of who was tried).
 */
export function failedBeforeRunning(
  e: Engine,
  step: PlanStep,
  host: string,
  error: string | undefined,
  how: { announce?: boolean; status?: HostStatus; exitCode?: number | null; meta?: AttemptMeta } = {},
): HostOutcome {
  const status = how.status ?? 'failed';
  const meta = how.meta ?? { attempt: 1 };
  if (how.announce) e.emitter.emit({ type: 'host-start', step: step.id, host, attempt: meta.attempt });
  e.emitter.emit({
    type: 'host-end',
    step: step.id,
    host,
    status,
    ...meta,
    exitCode: how.exitCode ?? null,
    signal: null,
    durationMs: 0,
    error,
    final: true,
  });
  return { host, status, exitCode: how.exitCode ?? null, error, verification: meta.phase === 'verify' };
}
