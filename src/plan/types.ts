// The plan: runbook × inventory × params, expanded by a pure function (src/plan/planner.ts).
// `remedy plan` renders it; `remedy run`/`guide` hand it to the executor, which applies it.
// The JSON contract (src/plan/json.ts) is a projection of this model; keep its names stable.
import type { CaptureSpec, Check } from '../runbook/schema.js';

export type OnFailurePolicy = { action: 'abort' } | { action: 'continue' } | { action: 'goto'; step: string };

/** A step's `evidence:` with defaults filled in. */
export interface PlanEvidence {
  title: string;
  from: 'stdout' | 'stderr';
  /** Regular expression source; null: every line. */
  lines: string | null;
  maxLines: number;
}

/** One host's view of a step at plan time. */
export interface PlannedCommand {
  host: string;
  /**
   * The exact string sent to the host's shell (templated, quoted, wrapped for become), with
   * secrets redacted. Values only known at run time (facts, cause) appear as ⟨facts.name⟩.
   */
  command: string;
}

/** A `properties` edit as written (values are templates rendered per host at run time). */
export interface PropertiesEdit {
  file: string;
  set: Record<string, string>;
  unset: string[];
  backup: boolean;
  owner?: string | undefined;
  mode?: string | undefined;
}

export interface FetchSpec {
  src: string;
  dest?: string | undefined;
  optional: boolean;
}

/** `require`: fleet conditions an all-clear must see hold (normalised to a list, possibly empty). */
export interface OutcomeSpec {
  status: 'resolved' | 'escalate' | 'nothing-to-do';
  message: string;
  require: string[];
}

export interface DecideSpec {
  causes: { cause: string; when: string; summary?: string | undefined }[];
  default: string;
}

export interface BundleSpec {
  name: string;
  files: { match: string; describe: string }[];
}

/**
 * What each kind of step carries beyond the fields every step has: everything needed to
 * (re-)render it for one host at run time. A new kind adds its entry here (and its action).
 * `include` has none: the planner inlines included runbooks, so no plan step is an include.
 */
export interface KindTemplates {
  /** Shell command template, and the check run after a change. */
  run: { run: string; verify?: Check | undefined };
  properties: { properties: PropertiesEdit; verify?: Check | undefined };
  fetch: { fetch: FetchSpec };
  /** A check re-run until it passes (`wait.run` is its command template). */
  wait: { wait: Check };
  pause: { pauseMs: number; pauseMessage?: string | undefined };
  decide: { decide: DecideSpec };
  outcome: { outcome: OutcomeSpec };
  bundle: { bundle: BundleSpec };
}

/** The kinds a plan step can be (a runbook's `include` is expanded away by the planner). */
export type PlanStepKind = keyof KindTemplates;

/** The kind-specific part of a step: its kind and exactly that kind's templates. */
export type KindPart<K extends PlanStepKind = PlanStepKind> = { [P in K]: { kind: P; templates: KindTemplates[P] } }[K];

/** Any step's templates (the union over kinds); narrow by `kind` to read a kind's own. */
export type StepTemplates = KindTemplates[PlanStepKind];

/** What every step has, whatever its kind (controller steps have no hosts, commands or diff). */
export interface StepCommon {
  /** Qualified id: `restart` or, inside an include, `restart_mps.restart`. Unique in the plan. */
  id: string;
  name: string;
  mutates: boolean;
  /** A mutating step that is not part of the fix (`skippable: true`): declining it leaves the host remediated. */
  skippable: boolean;
  /** Combined CEL condition (include's `when` && step's `when`), or null. */
  when: string | null;
  /** The condition in words, for people. */
  whenText: string | null;
  confirm: string | null;
  /** The host pattern as written, after templating; null for steps that run on the controller. */
  hostPattern: string | null;
  /** Hosts the pattern selects (after --limit), in inventory order; before `when`. */
  hosts: string[];
  /** Rolling batches when `serial` is set, else null (all hosts at once, bounded by --forks). */
  batches: string[][] | null;
  commands: PlannedCommand[];
  /** Per-host diff of a properties edit, when it can be known (plan --probe), else the intended edit. */
  diff: string | null;
  timeoutMs: number | null;
  retries: number;
  delayMs: number;
  repeat: { count: number; intervalMs: number } | null;
  maxUnavailable: number | null;
  maxFailPercentage: number | null;
  onFailure: OnFailurePolicy;
  /**
   * The step's `become`: a user name, true (the host's ansible_become_user), false (never), or null (not set:
   * the host's ansible_become decides). Use becomeUser(step, host) from render-host.ts to resolve.
   * The method (sudo, runuser, none) comes from each host's inventory.
   */
  become: string | boolean | null;
  capture: Record<string, CaptureSpec>;
  /** Output lines that are evidence (runbook `evidence:`), or null. */
  evidence: PlanEvidence | null;
  /** Captured facts marked `evidence: true`: shown to the operator and in reports as evidence. */
  evidenceFacts: string[];
  /** Steps run when this (mutating) step or its verification fails, in order. */
  rollback: PlanStep[];
  /**
   * As a rollback step: 'failed' runs on the failed hosts it targets; 'all' on every host it
   * targets that is still in the run (undoing a change that was made on other hosts than those that failed).
   */
  rollbackHosts: 'failed' | 'all';
  /** Include chain from the root runbook, e.g. ['restart_mps'] for restart_mps.restart. */
  includePath: string[];
  /** The runbook file the step was written in, and its position there. */
  source: { file: string; line: number; col: number };
  /**
   * Template scope of the step's runbook level: params and vars after include params. Holds real
   * values, secrets included: in memory only, never serialized (the JSON projection omits it).
   */
  scope: { params: Record<string, unknown>; vars: Record<string, unknown> };
  /** True when a command or condition depends on facts or the cause (rendered at run time). */
  dynamic: boolean;
}

/** A step of one kind: the common fields plus exactly its kind's templates. */
export type StepOf<K extends PlanStepKind> = StepCommon & KindPart<K>;

/** A plan step: a union keyed on `kind`; narrow on it to read a kind's templates. */
export type PlanStep = { [K in PlanStepKind]: StepOf<K> }[PlanStepKind];

/** The check a mutating step runs after its change (run and properties steps have one), if any. */
export function verifyOf(step: PlanStep): Check | undefined {
  return step.kind === 'run' || step.kind === 'properties' ? step.templates.verify : undefined;
}

/** A --limit that left hosts out: the verdict of such a run covers only the hosts it kept. */
export interface PlanLimit {
  /** The --limit pattern as given. */
  pattern: string;
  /** Hosts the runbook targets without the limit that the limit leaves out (inventory order). */
  excluded: string[];
}

export interface Plan {
  runbook: string;
  /** The root runbook file. */
  file: string;
  summary: string;
  planHash: string;
  /** Resolved params, secrets redacted. */
  params: Record<string, unknown>;
  /** Names of params that are secret. */
  secretParams: string[];
  /** Every host any step targets, in inventory order. */
  hosts: string[];
  /** The --limit, when one was given (null: the whole inventory the runbook targets). */
  limit: PlanLimit | null;
  steps: PlanStep[];
  /** Causes a decide step can conclude (for graphs and guided overrides). */
  causes: string[];
  warnings: string[];
  /** Secret values to redact from every output (params marked secret, become passwords). */
  secrets: string[];
}
