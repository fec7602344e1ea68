// `pause`: a wait the hosts take part in, or (naming no hosts) one on the controller.
import type { Host } from '../../inventory/types.js';
import type { StepOf } from '../../plan/types.js';
import type { Engine } from '../context.js';
import { begin, end, holdsOrSkip } from '../controller-step.js';
import type { StepFlow } from '../flow.js';
import type { HostOutcome } from '../strategy.js';
import type { ControllerAction, HostAction } from './action.js';
import { conditionNote, prepareCommands, previewCommands } from './commands.js';

export const hostPauseAction: HostAction<'pause'> = {
  on: 'hosts',
  prepare: async (e, step, hosts) => prepareCommands(e, step, hosts, undefined),
  preview: async (e, step, hosts, p) => previewCommands(e, step, hosts, p, undefined, (host) => [{ host, command: `pause ${step.templates.pauseMs} ms` }]),
  execute: pauseOnHost,
};

export const controllerPauseAction: ControllerAction<'pause'> = {
  on: 'controller',
  preview: (e, step, p) => conditionNote(e, step, p),
  execute: runControllerPause,
};

/** A pause on a host: a sleep the host takes part in (cut short by an interruption). */
async function pauseOnHost(e: Engine, step: StepOf<'pause'>, host: Host): Promise<HostOutcome> {
  e.emitter.emit({ type: 'host-start', step: step.id, host: host.name, attempt: 1, command: `pause ${step.templates.pauseMs} ms` });
  const started = e.clock.now();
  await e.clock.sleep(step.templates.pauseMs, e.stop);
  const interrupted = e.stop.aborted;
  e.emitter.emit({
    type: 'host-end',
    step: step.id,
    host: host.name,
    status: 'ok',
    attempt: 1,
    exitCode: null,
    signal: null,
    durationMs: Math.round(e.clock.now() - started),
    final: interrupted ? undefined : true,
  });
  return { host: host.name, status: 'ok', exitCode: null, verification: false, interrupted };
}

async function runControllerPause(e: Engine, step: StepOf<'pause'>, nextId: string | null): Promise<StepFlow> {
  if (!holdsOrSkip(e, step)) return { kind: 'next' };
  const started = begin(e, step);
  await e.clock.sleep(step.templates.pauseMs, e.stop);
  if (e.stop.aborted) return { kind: 'end', ending: { outcome: 'interrupted' } };
  end(e, step, started, nextId);
  return { kind: 'next' };
}
