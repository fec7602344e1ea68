// `pause`: a wait the hosts take part in, or (naming no hosts) one on the controller.
import { runControllerPause } from '../controller-steps.js';
import { pauseOnHost } from '../host-actions.js';
import type { ControllerAction, HostAction } from './action.js';
import { conditionNote, prepareCommands, previewCommands } from './commands.js';

export const hostPauseAction: HostAction<'pause'> = {
  on: 'hosts',
  prepare: prepareCommands,
  preview: async (e, step, hosts, p) => previewCommands(e, step, hosts, p, (host) => [{ host, command: `pause ${step.templates.pauseMs} ms` }]),
  execute: pauseOnHost,
};

export const controllerPauseAction: ControllerAction<'pause'> = {
  on: 'controller',
  preview: (e, step, p) => conditionNote(e, step, p),
  execute: runControllerPause,
};
