// The action registry: the one place that maps a step's kind to what runs it. Adding a kind is
// its schema entry (runbook/schema.ts), its templates (plan/types.ts KindTemplates), its
// description (plan/describe.ts), its action file here and one line below; the compiler names
// whichever is missing.
import type { PlanStep, PlanStepKind, StepOf } from '../../plan/types.js';
import type { StepKind } from '../../runbook/schema.js';
import type { StepAction } from './action.js';
import { bundleAction } from './bundle.js';
import { decideAction } from './decide.js';
import { fetchAction } from './fetch.js';
import { outcomeAction } from './outcome.js';
import { controllerPauseAction, hostPauseAction } from './pause.js';
import { propertiesAction } from './properties.js';
import { runAction } from './run.js';
import { waitAction } from './wait.js';

const ACTIONS: { readonly [K in PlanStepKind]: StepAction<K> | ((step: StepOf<K>) => StepAction<K>) } = {
  run: runAction,
  properties: propertiesAction,
  fetch: fetchAction,
  wait: waitAction,
  // A pause that names no hosts is the controller's.
  pause: (step) => (step.hostPattern === null ? controllerPauseAction : hostPauseAction),
  decide: decideAction,
  outcome: outcomeAction,
  bundle: bundleAction,
};

/** The step's action. ACTIONS pairs each kind with its own action, which is why the cast holds. */
export function actionFor(step: PlanStep): StepAction {
  const entry = ACTIONS[step.kind] as StepAction | ((step: PlanStep) => StepAction);
  return typeof entry === 'function' ? entry(step) : entry;
}

/**
 * Runbook kinds that have no action, on purpose. `include` is a planner-time construct: the
 * planner inlines the included runbook's steps (its params rendered, its hosts and `when`
 * combined with the include's) into the plan, so the plan, its hash, `remedy plan`, the journal
 * and a resume see only the steps it brings, and nothing is left to run. See the README's
 * Development section.
 */
export const PLANNER_ONLY_KINDS = ['include'] as const satisfies readonly StepKind[];

/** Compiles only while every runbook kind has an action above or is planner-only (and no kind is both). */
export const EVERY_KIND_HANDLED: [StepKind] extends [PlanStepKind | (typeof PLANNER_ONLY_KINDS)[number]]
  ? [Extract<PlanStepKind, (typeof PLANNER_ONLY_KINDS)[number]>] extends [never]
    ? true
    : never
  : never = true;
