// `fetch`: a file from each host into the run directory's artifacts (verified, secrets masked).
import { fetchOnHost } from '../fetch-action.js';
import type { HostAction } from './action.js';
import { prepareCommands, previewCommands } from './commands.js';

export const fetchAction: HostAction<'fetch'> = {
  on: 'hosts',
  prepare: prepareCommands,
  preview: async (e, step, hosts, p) => previewCommands(e, step, hosts, p, (_host, planned) => planned),
  execute: fetchOnHost,
};
