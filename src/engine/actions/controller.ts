// The kinds that run once on the controller: decide (name the cause), outcome (end the run),
// bundle (pack the run's artifacts).
import { runDecide, runOutcome } from '../controller-steps.js';
import type { ControllerAction } from './action.js';
import { conditionNote } from './commands.js';

export const decideAction: ControllerAction<'decide'> = {
  on: 'controller',
  preview: (_e, _step, p, first) => {
    p.note = first ? undefined : 'decided at run time, from the facts gathered after the steps above';
  },
  execute: runDecide,
};

export const outcomeAction: ControllerAction<'outcome'> = {
  on: 'controller',
  preview: (e, step, p) => {
    conditionNote(e, step, p);
    p.commands.push({ host: 'controller', command: e.emitter.redactor.redact(`${step.templates.outcome.status}: ${step.templates.outcome.message}`) });
  },
  execute: async (e, step) => runOutcome(e, step),
};

export const bundleAction: ControllerAction<'bundle'> = {
  on: 'controller',
  preview: (e, step, p) => {
    conditionNote(e, step, p);
    p.commands.push({ host: 'controller', command: e.emitter.redactor.redact(`bundle artifacts into artifacts/${step.templates.bundle.name}`) });
  },
  execute: async (e, step, nextId) => {
    // tar-stream and picomatch load only for runs that pack a bundle (start-up time).
    const { runBundle } = await import('../bundle-action.js');
    return runBundle(e, step, nextId);
  },
};
