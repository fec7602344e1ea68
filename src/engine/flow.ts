// How a step hands control back to the executor's loop.
import type { HostStatus, RunOutcome } from './events.js';

/** Why a run ends before (or at) its last step. */
export interface RunEnding {
  outcome: RunOutcome;
  /** The step that ended it, when one did. */
  step?: string | undefined;
  message?: string | undefined;
}

/** A step-end's counts, all zero (controller steps; a step that ran nowhere). */
export function zeroCounts(): Record<HostStatus, number> {
  return { ok: 0, changed: 0, failed: 0, 'timed-out': 0, unreachable: 0, skipped: 0 };
}

export type StepFlow =
  | { kind: 'next' }
  | { kind: 'goto'; target: string }
  | { kind: 'end'; ending: RunEnding }
  /** Probe mode: the first mutation that would run was reached; the rest is previewed. */
  | { kind: 'probe-stop' };
