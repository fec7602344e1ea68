// `wait`: a check re-run on each host until it passes (until:, retries, delay, timeout).
import { runCheckOnHost } from '../checks.js';
import type { HostAction } from './action.js';
import { prepareCommands, previewCommands } from './commands.js';

export const waitAction: HostAction<'wait'> = {
  on: 'hosts',
  // A wait never mutates, so nothing asks for approval of its check: prepare renders no command.
  prepare: async (e, step, hosts) => prepareCommands(e, step, hosts, undefined),
  preview: async (e, step, hosts, p) => previewCommands(e, step, hosts, p, step.templates.wait.run),
  execute: async (e, step, host) => runCheckOnHost(e, step, host, step.templates.wait),
  // A check that waits for a host to recover (a verify after a fix) has nothing to wait for
  // where the operator declined that host's fix: polling it would only hold the run for the
  // whole retry budget (≈65 s on the 502 runbook's Routers). The host stays not-remediated.
  excuse: (e, _step, host) => {
    const declined = e.state.steps.declinedFor(host);
    return declined.length > 0 ? `not waited on: its fix was declined (${declined.join(', ')})` : null;
  },
};
