// The engine's one retry loop: every action's attempts on a host go through it — a run's command
// (per repeat iteration), a check until it passes (wait, verify), a properties edit, a fetch.
// `retries` more attempts, `delay` apart, within a deadline when there is one; an interruption
// between attempts stops it (the host is then unfinished: resume picks it up).
import type { Engine } from './context.js';
import type { HostOutcome } from './strategy.js';

export interface RetryPolicy {
  retries: number;
  delayMs: number;
  /** false: no time is left for another attempt (a check's timeout). Asked after each attempt. */
  timeLeft?: (() => boolean) | undefined;
}

/**
 * One attempt. Before journaling its host-end, the attempt asks `again(retryable)` whether a
 * failure gets another attempt: its host-end is final only when it does not.
 */
export type AttemptFn = (attempt: number, again: (retryable: boolean) => boolean) => Promise<HostOutcome>;

export async function retrying(e: Engine, policy: RetryPolicy, run: AttemptFn): Promise<HostOutcome> {
  for (let attempt = 1; ; attempt++) {
    let retry = false;
    const outcome = await run(attempt, (retryable) => (retry = retryable && attempt <= policy.retries && (policy.timeLeft?.() ?? true)));
    if (!retry) return outcome;
    if (e.stop.aborted) return { ...outcome, interrupted: true };
    await e.clock.sleep(policy.delayMs, e.stop);
    if (e.stop.aborted) return { ...outcome, interrupted: true };
  }
}
