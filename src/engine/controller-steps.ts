// Steps that run once, on the controller: decide (name the cause from the fleet's facts),
// outcome (end the run), and pauses that name no hosts.
import { renderHostText } from '../plan/render-host.js';
import type { PlanStep, StepOf } from '../plan/types.js';
import { factsMentioned, varsMentioned } from './conditions.js';
import { errorMessage, runtimeFor, type Engine } from './context.js';
import type { RunOutcome } from './events.js';
import { zeroCounts, type StepFlow } from './flow.js';

/** A controller step's `when`; false (with a warning) when it cannot be evaluated. */
function controllerCondition(e: Engine, step: PlanStep): boolean {
  if (step.when === null) return true;
  try {
    return e.conditions.evaluate(step.when, step, null);
  } catch (err) {
    e.emitter.emit({ type: 'warning', step: step.id, message: `when: ${errorMessage(err)}; the step is skipped` });
    return false;
  }
}

function begin(e: Engine, step: PlanStep): number {
  e.emitter.emit({ type: 'step-start', step: step.id, name: step.name, kind: step.kind, mutates: false, hosts: [] });
  return e.clock.now();
}

function end(e: Engine, step: PlanStep, started: number, next: string | null | undefined): void {
  e.emitter.emit({ type: 'step-end', step: step.id, status: 'ok', durationMs: Math.round(e.clock.now() - started), counts: zeroCounts(), next });
}

function text(e: Engine, step: PlanStep, template: string): string {
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
function evidenceFacts(e: Engine, conditions: string[]): Record<string, Record<string, unknown>> {
  const names = new Set(conditions.flatMap(factsMentioned));
  const marked = new Set(allSteps(e.plan.steps).flatMap((s) => s.evidenceFacts));
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

function allSteps(steps: readonly PlanStep[]): PlanStep[] {
  return steps.flatMap((s) => [s, ...allSteps(s.rollback)]);
}

export async function runDecide(e: Engine, step: StepOf<'decide'>, nextId: string | null): Promise<StepFlow> {
  const spec = step.templates.decide;
  if (!controllerCondition(e, step)) {
    e.emitter.emit({ type: 'step-skip', step: step.id, reason: `condition is false: ${step.whenText ?? step.when}` });
    return { kind: 'next' };
  }
  const started = begin(e, step);
  let cause = spec.default;
  let condition: string | null = null;
  for (const c of spec.causes) {
    try {
      if (e.conditions.evaluate(c.when, step, null)) {
        cause = c.cause;
        condition = c.when;
        break;
      }
    } catch (err) {
      e.emitter.emit({ type: 'warning', step: step.id, message: `cause ${c.cause}: ${errorMessage(err)}; taken as false` });
    }
  }
  const evidence = { condition, facts: evidenceFacts(e, condition !== null ? [condition] : spec.causes.map((c) => c.when)) };
  const candidates = [
    ...spec.causes.map((c) => ({ cause: c.cause, summary: c.summary ?? null, condition: c.when })),
    ...(spec.causes.some((c) => c.cause === spec.default) ? [] : [{ cause: spec.default, summary: null, condition: null }]),
  ];
  const redacted = e.emitter.redactor.redactValue(evidence);
  const answer = await e.strategy.confirmCause({ step, cause, candidates, evidence: redacted });
  const confirmed = answer.cause;
  e.state.cause = confirmed;
  e.emitter.emit({
    type: 'decision',
    step: step.id,
    cause: confirmed,
    evidence,
    candidates: candidates.map((c) => c.cause),
    override: confirmed !== cause ? { from: cause, operator: e.strategy.operator } : undefined,
    // Who settled the cause, when a person did (accepted or overrode); absent when the
    // conditions' conclusion stands unasked, so a report never names someone who was not asked.
    confirmedBy: answer.source === 'operator' ? e.strategy.operator : undefined,
  });
  end(e, step, started, nextId);
  return { kind: 'next' };
}

const OUTCOMES: Record<'resolved' | 'escalate' | 'nothing-to-do', RunOutcome> = {
  resolved: 'resolved',
  escalate: 'escalated',
  'nothing-to-do': 'nothing-to-do',
};

export async function runOutcome(e: Engine, step: StepOf<'outcome'>): Promise<StepFlow> {
  const spec = step.templates.outcome;
  if (!controllerCondition(e, step)) {
    e.emitter.emit({ type: 'step-skip', step: step.id, reason: `condition is false: ${step.whenText ?? step.when}` });
    return { kind: 'next' };
  }
  const started = begin(e, step);
  const message = text(e, step, spec.message);
  const unproven = spec.status === 'escalate' ? [] : unmetRequirements(e, step, spec.require);
  if (unproven.length > 0) {
    // The all-clear is not claimed: the run escalates with what it saw instead.
    const evidence = e.emitter.redactor.redactValue(evidenceFacts(e, spec.require));
    const seen = Object.entries(evidence)
      .map(
        ([host, facts]) =>
          `${host}: ${Object.entries(facts)
            .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
            .join(' ')}`,
      )
      .join('; ');
    const said = `This run cannot claim "${spec.status}": ${unproven.join('; ')}. Nothing more was done; a person must look${seen ? `. Evidence: ${seen}` : ''}.`;
    e.emitter.emit({ type: 'warning', step: step.id, message: `outcome ${spec.status} not proven: ${unproven.join('; ')}` });
    e.emitter.emit({ type: 'outcome', step: step.id, status: 'escalate', message: said });
    end(e, step, started, null);
    return { kind: 'end', ending: { outcome: 'escalated', step: step.id, message: said } };
  }
  e.emitter.emit({ type: 'outcome', step: step.id, status: spec.status, message });
  end(e, step, started, null);
  return { kind: 'end', ending: { outcome: OUTCOMES[spec.status], step: step.id, message } };
}

/** The `require` conditions that do not hold (or cannot be evaluated), each said with why. */
function unmetRequirements(e: Engine, step: PlanStep, require: readonly string[]): string[] {
  const unmet: string[] = [];
  for (const condition of require) {
    try {
      if (!e.conditions.evaluate(condition, step, null)) unmet.push(`\`${condition}\` does not hold`);
    } catch (err) {
      unmet.push(`\`${condition}\` cannot be checked (${errorMessage(err)})`);
    }
  }
  return unmet;
}

export async function runControllerPause(e: Engine, step: StepOf<'pause'>, nextId: string | null): Promise<StepFlow> {
  if (!controllerCondition(e, step)) {
    e.emitter.emit({ type: 'step-skip', step: step.id, reason: `condition is false: ${step.whenText ?? step.when}` });
    return { kind: 'next' };
  }
  const started = begin(e, step);
  await e.clock.sleep(step.templates.pauseMs, e.stop);
  if (e.stop.aborted) return { kind: 'end', ending: { outcome: 'interrupted' } };
  end(e, step, started, nextId);
  return { kind: 'next' };
}
