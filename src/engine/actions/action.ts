// The interface every step kind implements: what it would do (a mutating step's approval, a
// probe's preview), and what it does, on each host or once on the controller. The executor and
// runHostStep call these and never ask which kind a step is; adding a kind is one file here,
// one line in registry.ts, and its schema.
import type { Host } from '../../inventory/types.js';
import type { PlannedCommand, PlanStepKind, StepOf } from '../../plan/types.js';
import type { Engine } from '../context.js';
import type { StepFlow } from '../flow.js';
import type { ProbeStepPreview } from '../preview.js';
import type { HostOutcome } from '../strategy.js';

/** What a step would do on its hosts, before approval: the commands and diffs an operator approves. */
export interface PreparedChange {
  /** Hosts where it would change something. */
  wouldRun: string[];
  /** Hosts already as wanted: nothing to do. */
  unchanged: string[];
  /** Hosts where finding out failed (a file that cannot be read). */
  failedEarly: HostOutcome[];
  commands: PlannedCommand[];
  diffs: Record<string, string>;
}

/**
 * A step that runs on each of its hosts. K is the kind it serves: its methods receive that kind's
 * steps (the registry pairs each kind with its action, so callers never narrow).
 */
export interface HostAction<K extends PlanStepKind = PlanStepKind> {
  readonly on: 'hosts';
  /** What it would do on these hosts (read-only: properties read their files for real diffs). */
  prepare(e: Engine, step: StepOf<K>, hosts: string[]): Promise<PreparedChange>;
  /** Probe: fills in the commands (and diffs) it would run on `hosts`, judged with the facts known now. */
  preview(e: Engine, step: StepOf<K>, hosts: string[], p: ProbeStepPreview): Promise<void>;
  /** Runs it on one host: its attempts, retries and verify, each journaled. */
  execute(e: Engine, step: StepOf<K>, host: Host): Promise<HostOutcome>;
  /** Why the step need not run on this host although its condition holds; null: it runs. */
  excuse?(e: Engine, step: StepOf<K>, host: string): string | null;
}

/** A step that runs once, on the controller. */
export interface ControllerAction<K extends PlanStepKind = PlanStepKind> {
  readonly on: 'controller';
  /** Probe: what it would do, judged with the facts known now (`first`: the preview starts here). */
  preview(e: Engine, step: StepOf<K>, p: ProbeStepPreview, first: boolean): void;
  execute(e: Engine, step: StepOf<K>, nextId: string | null): Promise<StepFlow>;
}

export type StepAction<K extends PlanStepKind = PlanStepKind> = HostAction<K> | ControllerAction<K>;
