// Checks: a command re-run on a host until it passes (a wait step's check, a change's verify,
// resume's re-check of a change cut short), and the verify that follows a change.
import type { Host } from '../inventory/types.js';
import { becomeUser } from '../plan/render-host.js';
import type { PlanStep } from '../plan/types.js';
import { durationMs } from '../runbook/duration.js';
import type { Check } from '../runbook/schema.js';
import type { WrappedCommand } from '../shell/become.js';
import { captureInto } from './attempt-facts.js';
import { retrying } from './attempts.js';
import { errorMessage, type Engine } from './context.js';
import type { HostStatus } from './events.js';
import { endAttempt, execAttempt, failedBeforeRunning, outcomeOf, renderForHost, type Attempt } from './host-exec.js';
import type { HostOutcome } from './strategy.js';

/** The user a check runs as: its own `become`, else the step's. */
export function checkBecome(step: PlanStep, host: Host, check: Check): string | null {
  if (check.become === true) return host.become.user;
  if (check.become === false) return null;
  if (typeof check.become === 'string') return check.become;
  return becomeUser(step, host);
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
    return failedBeforeRunning(e, step, host.name, `cannot render the command: ${errorMessage(err)}`, { meta: { attempt: 1, phase } });
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

/**
 * After a change (`done`, its last attempt): the step's `verify:` check, when it has one. The host
 * is changed when the check passes, failed with the check's reason when it does not.
 */
export async function verifyChange(e: Engine, step: PlanStep, host: Host, verify: Check | undefined, done: Attempt): Promise<HostOutcome> {
  if (!verify) return outcomeOf(host.name, done, 'changed');
  const check = await runCheckOnHost(e, step, host, verify, 'verify');
  if (check.status === 'ok') return outcomeOf(host.name, done, 'changed');
  return { ...check, verification: true, error: `verification failed: ${check.error ?? 'check did not pass'}` };
}
