// `outcome`: ends the run with a status and a message. An all-clear (resolved, nothing-to-do)
// is claimed only when its `require:` conditions hold; otherwise the run escalates, saying why.
import type { PlanStep, StepOf } from '../../plan/types.js';
import { errorMessage, type Engine } from '../context.js';
import { begin, end, evidenceFacts, holdsOrSkip, text } from '../controller-step.js';
import type { RunOutcome } from '../events.js';
import type { StepFlow } from '../flow.js';
import type { ControllerAction } from './action.js';
import { conditionNote } from './commands.js';

export const outcomeAction: ControllerAction<'outcome'> = {
  on: 'controller',
  preview: (e, step, p) => {
    conditionNote(e, step, p);
    p.commands.push({ host: 'controller', command: e.emitter.redactor.redact(`${step.templates.outcome.status}: ${step.templates.outcome.message}`) });
  },
  execute: async (e, step) => runOutcome(e, step),
};

const OUTCOMES: Record<'resolved' | 'escalate' | 'nothing-to-do', RunOutcome> = {
  resolved: 'resolved',
  escalate: 'escalated',
  'nothing-to-do': 'nothing-to-do',
};

async function runOutcome(e: Engine, step: StepOf<'outcome'>): Promise<StepFlow> {
  const spec = step.templates.outcome;
  if (!holdsOrSkip(e, step)) return { kind: 'next' };
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
