// What a step does on one host: shell commands with retries, repeats and timeouts; checks
// (wait, verify) re-run until they pass; pauses. Properties edits and fetches have their own files.
import type { Host } from '../inventory/types.js';
import { becomeUser, renderHostCommand } from '../plan/render-host.js';
import type { PlanStep, StepOf } from '../plan/types.js';
import { durationMs } from '../runbook/duration.js';
import type { Check } from '../runbook/schema.js';
import type { WrappedCommand } from '../shell/become.js';
import { retrying } from './attempts.js';
import { applyCaptures } from './capture.js';
import { errorMessage, runtimeFor, type Engine } from './context.js';
import type { HostStatus } from './events.js';
import { endAttempt, execAttempt, type Attempt } from './host-exec.js';
import type { HostOutcome } from './strategy.js';

export function outcomeOf(host: string, a: Attempt, status: HostStatus = a.status, verification = false): HostOutcome {
  return { host, status, exitCode: a.result?.exitCode ?? null, error: a.error, outputs: a.outputs, verification };
}

/** Renders a template for a host at run time (real facts and secrets), wrapped for become. */
export function renderForHost(e: Engine, step: PlanStep, host: Host, template: string, become?: string | null): WrappedCommand {
  return renderHostCommand(e.plan, step, host, template, runtimeFor(e, host.name), become);
}

/** The user a check runs as: its own `become`, else the step's. */
export function checkBecome(step: PlanStep, host: Host, check: Check): string | null {
  if (check.become === true) return host.become.user;
  if (check.become === false) return null;
  if (typeof check.become === 'string') return check.become;
  return becomeUser(step, host);
}

interface Captured {
  facts?: Record<string, unknown> | undefined;
  unsetFacts?: string[] | undefined;
}

/**
 * The facts an attempt's output gives. A command that failed (non-zero exit, timed out, killed)
 * gives none: its captures are left unset, never defaulted, so a condition reading them cannot be
 * evaluated and an all-clear cannot rest on them. Only a capture of the exit code itself keeps
 * the code the host returned (a timeout or a kill returned none: unset too).
 */
function captureInto(e: Engine, step: PlanStep, host: Host, a: Attempt): Captured {
  if (!a.result || Object.keys(step.capture).length === 0) return {};
  const output = { exitCode: a.result.exitCode, stdout: a.result.stdout, stderr: a.result.stderr };
  if (a.status !== 'ok') {
    const kept = Object.fromEntries(Object.entries(step.capture).filter(([, spec]) => output.exitCode !== null && isExitCodeCapture(spec)));
    const { facts } = applyCaptures(kept, output);
    const unset = Object.keys(step.capture).filter((name) => !(name in facts));
    const current = e.state.factsOf(host.name);
    for (const name of unset) delete current[name];
    e.state.mergeFacts(host.name, facts);
    if (unset.length > 0) {
      const how = a.result.exitCode !== null ? `exited ${a.result.exitCode}` : a.status;
      e.emitter.emit({
        type: 'warning',
        step: step.id,
        host: host.name,
        message: `the command ${how}: ${unset.join(', ')} left unset (a failed command gives no facts)`,
      });
    }
    return { facts, unsetFacts: unset.length > 0 ? unset : undefined };
  }
  const { facts, problems } = applyCaptures(step.capture, output);
  for (const message of problems) e.emitter.emit({ type: 'warning', step: step.id, host: host.name, message });
  e.state.mergeFacts(host.name, facts);
  return { facts };
}

function isExitCodeCapture(spec: Parameters<typeof applyCaptures>[0][string]): boolean {
  if (typeof spec === 'string') return spec === 'exit_code';
  return spec.from === 'exit_code' && spec.regex === undefined && spec.json !== true;
}

/** A render failure (e.g. a fact the template needs is missing) fails the host, with the reason. */
function renderFailure(
  e: Engine,
  step: PlanStep,
  host: Host,
  err: unknown,
  meta: { attempt: number; iteration?: number | undefined; phase?: 'verify' | undefined },
): HostOutcome {
  const error = `cannot render the command: ${errorMessage(err)}`;
  e.emitter.emit({
    type: 'host-end',
    step: step.id,
    host: host.name,
    status: 'failed',
    ...meta,
    exitCode: null,
    signal: null,
    durationMs: 0,
    error,
    final: true,
  });
  return { host: host.name, status: 'failed', exitCode: null, error, verification: meta.phase === 'verify' };
}

/**
 * A `run` step on one host: `repeat` iterations (interval between), each with `retries` (delay
 * between), then the `verify:` check after a mutating command. Facts are captured from every
 * iteration's last attempt, the last iteration winning.
 */
export async function runShellOnHost(e: Engine, step: StepOf<'run'>, host: Host): Promise<HostOutcome> {
  const template = step.templates.run;
  const count = step.repeat?.count ?? 1;
  const verify = step.mutates ? step.templates.verify : undefined;
  // The last attempt so far (set inside the retry loop's attempts).
  const seen: { last: Attempt | null } = { last: null };
  for (let it = 1; it <= count; it++) {
    const iteration = step.repeat ? it : undefined;
    let command: WrappedCommand;
    try {
      command = renderForHost(e, step, host, template);
    } catch (err) {
      return renderFailure(e, step, host, err, { attempt: 1, iteration });
    }
    const tried = await retrying(e, { retries: step.retries, delayMs: step.delayMs }, async (attempt, again) => {
      const a = await execAttempt(e, { step, host, command, attempt, iteration, timeoutMs: step.timeoutMs });
      seen.last = a;
      const passed = a.status === 'ok';
      // An attempt an interruption keeps from being retried is not final: resume picks it up.
      const wouldRetry = again(!passed && a.status !== 'unreachable');
      const captured = wouldRetry ? {} : captureInto(e, step, host, a);
      const final = !wouldRetry && (!passed || (it === count && !verify));
      endAttempt(e, step, host.name, a, { status: passed && step.mutates ? 'changed' : a.status, final, ...captured });
      if (passed && step.mutates) e.state.changed = true;
      return outcomeOf(host.name, a);
    });
    if (tried.interrupted || tried.status !== 'ok') return tried;
    if (it < count) {
      if (e.stop.aborted) return { ...tried, interrupted: true };
      await e.clock.sleep(step.repeat?.intervalMs ?? 0, e.stop);
      if (e.stop.aborted) return { ...tried, interrupted: true };
    }
  }
  const done = seen.last as Attempt;
  if (!verify) return outcomeOf(host.name, done, step.mutates ? 'changed' : 'ok');
  const check = await runCheckOnHost(e, step, host, verify, 'verify');
  if (check.status === 'ok') return outcomeOf(host.name, done, 'changed');
  return { ...check, verification: true, error: `verification failed: ${check.error ?? 'check did not pass'}` };
}

/**
 * A check re-run until `until` holds (default: exit code 0): `retries` more attempts, `delay`
 * apart, all within `timeout` when set. Without `retries`, a check with a `timeout` keeps trying
 * until the deadline; one with neither runs once (the step's `retries` apply to wait steps).
 */
export async function runCheckOnHost(
  e: Engine,
  step: PlanStep,
  host: Host,
  check: Check,
  phase?: 'verify',
  /** 'always': the check's last attempt ends the step on the host; 'pass': only a pass does (resume's re-check). */
  finalWhen: 'always' | 'pass' = 'always',
): Promise<HostOutcome> {
  const deadlineMs = check.timeout !== undefined ? durationMs(check.timeout) : null;
  const retries = check.retries ?? (deadlineMs !== null ? Number.POSITIVE_INFINITY : phase ? 0 : step.retries);
  const delay = check.delay !== undefined ? durationMs(check.delay) : phase ? 1000 : step.delayMs || 1000;
  const started = e.clock.now();
  const become = checkBecome(step, host, check);
  let command: WrappedCommand;
  try {
    command = renderForHost(e, step, host, check.run, become);
  } catch (err) {
    return renderFailure(e, step, host, err, { attempt: 1, phase });
  }
  return retrying(e, { retries, delayMs: delay }, async (attempt, again) => {
    const remaining = deadlineMs === null ? null : deadlineMs - (e.clock.now() - started);
    const timeoutMs = minTimeout(step.timeoutMs, remaining);
    const a = await execAttempt(e, { step, host, command, attempt, phase, timeoutMs });
    let passed = false;
    let error = a.error;
    if (a.result && a.status !== 'unreachable') {
      const result = { exit_code: a.result.exitCode, stdout: a.result.stdout.trim(), stderr: a.result.stderr.trim() };
      if (check.until === undefined) passed = a.status === 'ok';
      else if (a.status !== 'timed-out') {
        try {
          passed = e.conditions.evaluate(check.until, step, host, result);
          if (!passed) error = `until not met: ${check.until}`;
        } catch (err) {
          error = `until: ${errorMessage(err)}`;
        }
      }
    }
    const elapsed = e.clock.now() - started;
    const timeLeft = deadlineMs === null || elapsed + delay < deadlineMs;
    const wouldRetry = again(!passed && a.status !== 'unreachable' && timeLeft);
    const status: HostStatus = passed ? 'ok' : a.status === 'ok' ? 'failed' : a.status;
    if (!passed && !wouldRetry && deadlineMs !== null && !timeLeft && a.status !== 'unreachable')
      error = `${error ?? 'check failed'} (gave up after ${deadlineMs} ms)`;
    const captured = phase ? {} : captureInto(e, step, host, a);
    endAttempt(e, step, host.name, a, { status, final: finalWhen === 'always' ? !wouldRetry : passed, ...captured, error: passed ? undefined : error });
    if (passed) return outcomeOf(host.name, a, 'ok', false);
    return { ...outcomeOf(host.name, a, status, phase === 'verify'), error };
  });
}

function minTimeout(stepTimeout: number | null, remaining: number | null): number | null {
  if (remaining === null) return stepTimeout;
  const r = Math.max(1, Math.round(remaining));
  return stepTimeout === null ? r : Math.min(stepTimeout, r);
}

/** A pause on a host: a sleep the host takes part in (cut short by an interruption). */
export async function pauseOnHost(e: Engine, step: StepOf<'pause'>, host: Host): Promise<HostOutcome> {
  e.emitter.emit({ type: 'host-start', step: step.id, host: host.name, attempt: 1, command: `pause ${step.templates.pauseMs} ms` });
  const started = e.clock.now();
  await e.clock.sleep(step.templates.pauseMs, e.stop);
  const interrupted = e.stop.aborted;
  e.emitter.emit({
    type: 'host-end',
    step: step.id,
    host: host.name,
    status: 'ok',
    attempt: 1,
    exitCode: null,
    signal: null,
    durationMs: Math.round(e.clock.now() - started),
    final: interrupted ? undefined : true,
  });
  return { host: host.name, status: 'ok', exitCode: null, verification: false, interrupted };
}
