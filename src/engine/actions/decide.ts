// `decide`: names the cause from the fleet's facts (the first cause whose condition holds, else
// the default), confirmed or overridden by the strategy (guided: the operator), with its evidence.
import type { StepOf } from '../../plan/types.js';
import { errorMessage, type Engine } from '../context.js';
import { begin, end, evidenceFacts, holdsOrSkip } from '../controller-step.js';
import type { StepFlow } from '../flow.js';
import type { ControllerAction } from './action.js';

export const decideAction: ControllerAction<'decide'> = {
  on: 'controller',
  preview: (_e, _step, p, first) => {
    p.note = first ? undefined : 'decided at run time, from the facts gathered after the steps above';
  },
  execute: runDecide,
};

async function runDecide(e: Engine, step: StepOf<'decide'>, nextId: string | null): Promise<StepFlow> {
  const spec = step.templates.decide;
  if (!holdsOrSkip(e, step)) return { kind: 'next' };
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
