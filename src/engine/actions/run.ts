// `run`: a shell command on each host, with repeat, retries, timeout and (after a change) verify.
import { runShellOnHost } from '../host-actions.js';
import type { HostAction } from './action.js';
import { prepareCommands, previewCommands } from './commands.js';

export const runAction: HostAction<'run'> = {
  on: 'hosts',
  prepare: prepareCommands,
  preview: async (e, step, hosts, p) => previewCommands(e, step, hosts, p),
  execute: runShellOnHost,
};
