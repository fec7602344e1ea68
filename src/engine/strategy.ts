// The decision points of a run, behind one interface (Ansible's strategies: linear, debug).
// The executor never asks a person anything itself: unattended runs answer from flags, guided
// runs ask the operator, probes never let a mutation through. Nothing here knows about terminals.
import type { OnFailurePolicy, PlanStep, PlannedCommand } from '../plan/types.js';
import type { ApprovalDecision, ApprovalSource, HostStatus, RunMode } from './events.js';

export interface ApprovalRequest {
  step: PlanStep;
  /** 1-based rolling batch and the number of batches, when the step has `serial`. */
  batch: { index: number; count: number } | null;
  /** Hosts the step would actually run on (its `when` held, its edit would change something). */
  hosts: string[];
  /** What each host would receive, rendered with real facts, secrets redacted. */
  commands: PlannedCommand[];
  /** Properties edits: the unified diff per host, from the real file, secrets redacted. */
  diffs: Record<string, string>;
  /** The step's `confirm` text, rendered. */
  confirm: string | null;
  /** True for a rollback step run after a failure. */
  rollback: boolean;
  planHash: string;
}

export interface ApprovalAnswer {
  /**
   * approved: run on `hosts` (default: all requested); the rest are skipped.
   * skipped: do not run this step (or batch), go on with the run.
   * refused / timed-out / aborted: the run ends, outcome `refused` (exit 5).
   */
  decision: ApprovalDecision;
  hosts?: string[] | undefined;
  source: ApprovalSource;
  /** Who answered, when not the strategy's operator (`remedy serve`: the API token's name). */
  operator?: string | undefined;
  /** Why, in the operator's words (the console requires one to deny); journaled with the decision. */
  comment?: string | undefined;
}

/** How a step ended on one host (a failure request lists the hosts where it failed). */
export interface HostOutcome {
  host: string;
  status: HostStatus;
  exitCode: number | null;
  error?: string | undefined;
  /** Full outputs, relative to the run dir, when recorded. */
  outputs?: { stdout: string; stderr: string } | undefined;
  /** True when the step itself passed and its `verify:` check did not. */
  verification: boolean;
  /** Stopped by an interruption before finishing. */
  interrupted?: boolean | undefined;
}

export interface FailureRequest {
  step: PlanStep;
  batch: { index: number; count: number } | null;
  /** Hosts that failed or timed out. */
  failed: HostOutcome[];
  /** Hosts that could not be reached (counted apart from failures). */
  unreachable: string[];
  /** What the runbook says to do. */
  policy: OnFailurePolicy;
  /** The step has rollback steps for these hosts. */
  canRollback: boolean;
  /** Whether the thresholds (max_fail_percentage, max_unavailable) tolerate this batch's losses. */
  withinThresholds: boolean;
  /** How many times this step was already retried at the operator's request. */
  retried: number;
}

/**
 * retry: run the step again on the failed hosts.
 * skip: leave the failed hosts as they are (no rollback) and go on as if the step passed.
 * rollback: run the rollback steps on the failed hosts, then end the run (failed).
 * abort: end the run now, no rollback (failed).
 * policy: what the runbook says: rollback steps (when any), then thresholds and on_failure.
 */
export type FailureAction = 'retry' | 'skip' | 'rollback' | 'abort' | 'policy';
export interface FailureAnswer {
  action: FailureAction;
  /** For retry: only these hosts (default: every failed host). */
  hosts?: string[] | undefined;
}

export interface CauseRequest {
  step: PlanStep;
  /** The cause the conditions concluded. */
  cause: string;
  /** Every cause the step can name, in order, then its default. */
  candidates: { cause: string; summary: string | null; condition: string | null }[];
  evidence: { condition: string | null; facts: Record<string, Record<string, unknown>> };
}

/**
 * The cause to go on with, and who settled it: `operator` when a person answered (accepted the
 * concluded cause or picked another), `runbook` when the conditions' conclusion stands unasked
 * (unattended, probe, a prompt that timed out). The journal records the operator only for the first.
 */
export interface CauseAnswer {
  cause: string;
  source: 'operator' | 'runbook';
}

export interface Strategy {
  readonly mode: RunMode;
  /** Name recorded with approvals and overrides. */
  readonly operator: string;
  /** Before a mutating step (per batch): approve all / some hosts / skip / refuse. */
  approve(req: ApprovalRequest): Promise<ApprovalAnswer>;
  /** After a failure on some hosts: retry / skip / rollback / abort / continue-as-policy. */
  onFailure(req: FailureRequest): Promise<FailureAnswer>;
  /** After a decide step: accept or override the cause (returns the cause to use, and who chose it). */
  confirmCause(req: CauseRequest): Promise<CauseAnswer>;
  /**
   * A mutating step would change these hosts: true stops the run before it, and the executor
   * previews the rest of the plan instead (probe). A strategy with this hook always gets the
   * preview in its result. Absent: the change is put to approve().
   */
  stopsBeforeMutation?(step: PlanStep): boolean;
}

/**
 * `remedy run`: never prompts. With --yes every mutating step is approved (source `flag`);
 * without it, the first mutating step that would really run is refused, which ends the run
 * with outcome `refused` (exit 5) after all the read-only diagnosis ran.
 */
export class UnattendedStrategy implements Strategy {
  readonly mode = 'unattended' as const;
  readonly operator: string;
  readonly #yes: boolean;
  constructor(options: { yes: boolean; operator: string }) {
    this.#yes = options.yes;
    this.operator = options.operator;
  }
  async approve(req: ApprovalRequest): Promise<ApprovalAnswer> {
    if (this.#yes) return { decision: 'approved', hosts: req.hosts, source: 'flag' };
    return { decision: 'refused', source: 'policy' };
  }
  async onFailure(_req: FailureRequest): Promise<FailureAnswer> {
    return { action: 'policy' };
  }
  async confirmCause(req: CauseRequest): Promise<CauseAnswer> {
    return { cause: req.cause, source: 'runbook' };
  }
}

/**
 * `remedy plan --probe`: read-only steps run for real; no mutation is ever approved. The
 * executor, asked through stopsBeforeMutation, turns the first mutation that would run into a
 * preview of the rest.
 */
export class ProbeStrategy implements Strategy {
  readonly mode = 'probe' as const;
  readonly operator: string;
  constructor(options: { operator: string }) {
    this.operator = options.operator;
  }
  stopsBeforeMutation(): boolean {
    return true;
  }
  async approve(): Promise<ApprovalAnswer> {
    return { decision: 'refused', source: 'policy' };
  }
  async onFailure(): Promise<FailureAnswer> {
    return { action: 'policy' };
  }
  async confirmCause(req: CauseRequest): Promise<CauseAnswer> {
    return { cause: req.cause, source: 'runbook' };
  }
}
