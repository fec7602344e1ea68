// The action registry: the one place that maps a step's kind to what runs it. (`include` never
// reaches the engine: the planner inlines included runbooks as steps of these kinds.)
import type { PlanStep, PlanStepKind, StepOf } from '../../plan/types.js';
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
