// What the kinds that run once on the controller share (decide, outcome, bundle, a pause that
// names no hosts): their condition, their step-start/step-end, their text templates, and the
// evidence a decision or an unproven all-clear shows.
import { renderHostText } from '../plan/render-host.js';
import type { Plan, PlanStep } from '../plan/types.js';
import { factsMentioned, varsMentioned } from './conditions.js';
import { errorMessage, runtimeFor, type Engine } from './context.js';
import { zeroCounts } from './flow.js';

/** A controller step's `when`; false (with a warning) when it cannot be evaluated. */
export function controllerCondition(e: Engine, step: PlanStep): boolean {
  if (step.when === null) return true;
  try {
    return e.conditions.evaluate(step.when, step, null);
  } catch (err) {
    e.emitter.emit({ type: 'warning', step: step.id, message: `when: ${errorMessage(err)}; the step is skipped` });
    return false;
  }
}

export function begin(e: Engine, step: PlanStep): number {
  e.emitter.emit({ type: 'step-start', step: step.id, name: step.name, kind: step.kind, mutates: false, hosts: [] });
  return e.clock.now();
}

export function end(e: Engine, step: PlanStep, started: number, next: string | null | undefined): void {
  e.emitter.emit({ type: 'step-end', step: step.id, status: 'ok', durationMs: Math.round(e.clock.now() - started), counts: zeroCounts(), next });
}

export function text(e: Engine, step: PlanStep, template: string): string {
  try {
    return renderHostText(e.plan, step, null, template, runtimeFor(e, null, step));
  } catch {
    return template;
  }
}

/**
 * The facts a decision read, per host (only the facts its conditions mention, when they name any),
 * the facts the runbook marks as evidence, and the inventory vars the conditions compare them
 * with (`m.vars.mp_tls_port`, as `vars.mp_tls_port`): the other side of a comparison is evidence too.
 */
export function evidenceFacts(e: Engine, conditions: string[]): Record<string, Record<string, unknown>> {
  const names = new Set(conditions.flatMap(factsMentioned));
  const marked = evidenceMarked(e.plan);
  const vars = new Set(conditions.flatMap(varsMentioned));
  const out: Record<string, Record<string, unknown>> = {};
  for (const [host, h] of e.inventory.hosts) {
    const facts = e.state.facts.get(host);
    if (!facts || Object.keys(facts).length === 0) continue;
    const read = names.size === 0 ? { ...facts } : Object.fromEntries(Object.entries(facts).filter(([k]) => names.has(k) || marked.has(k)));
    for (const v of vars) if (h.vars[v] !== undefined) read[`vars.${v}`] = h.vars[v];
    out[host] = read;
  }
  return out;
}

/** Facts the runbook marks as evidence (`capture: {x: {evidence: true}}`), once per plan. */
const marked = new WeakMap<Plan, Set<string>>();
function evidenceMarked(plan: Plan): Set<string> {
  let names = marked.get(plan);
  if (!names) marked.set(plan, (names = new Set(allSteps(plan.steps).flatMap((s) => s.evidenceFacts))));
  return names;
}

export function allSteps(steps: readonly PlanStep[]): PlanStep[] {
  return steps.flatMap((s) => [s, ...allSteps(s.rollback)]);
}

/** A controller step whose condition does not hold is skipped (journaled); true: it runs. */
export function holdsOrSkip(e: Engine, step: PlanStep): boolean {
  if (controllerCondition(e, step)) return true;
  e.emitter.emit({ type: 'step-skip', step: step.id, reason: `condition is false: ${step.whenText ?? step.when}` });
  return false;
}
