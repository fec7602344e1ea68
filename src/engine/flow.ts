// How a step hands control back to the executor's loop.
import type { RunOutcome } from './events.js';

/** Why a run ends before (or at) its last step. */
export interface RunEnding {
  outcome: RunOutcome;
  /** The step that ended it, when one did. */
  step?: string | undefined;
  message?: string | undefined;
}

export type StepFlow =
  | { kind: 'next' }
  | { kind: 'goto'; target: string }
  | { kind: 'end'; ending: RunEnding }
  /** Probe mode: the first mutation that would run was reached; the rest is previewed. */
  | { kind: 'probe-stop' };
