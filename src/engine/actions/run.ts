// `run`: a shell command on each host, with repeat, retries, timeout and (after a change) verify.
import type { Host } from '../../inventory/types.js';
import type { StepOf } from '../../plan/types.js';
import type { WrappedCommand } from '../../shell/become.js';
import { captureInto } from '../attempt-facts.js';
import { retrying } from '../attempts.js';
import { verifyChange } from '../checks.js';
import { errorMessage, type Engine } from '../context.js';
import { endAttempt, execAttempt, failedBeforeRunning, outcomeOf, renderForHost, type Attempt } from '../host-exec.js';
import type { HostOutcome } from '../strategy.js';
import type { HostAction } from './action.js';
import { prepareCommands, previewCommands } from './commands.js';

export const runAction: HostAction<'run'> = {
  on: 'hosts',
  prepare: async (e, step, hosts) => prepareCommands(e, step, hosts, step.templates.run),
  preview: async (e, step, hosts, p) => previewCommands(e, step, hosts, p, step.templates.run),
  execute: runShellOnHost,
};

/**
 * A `run` step on one host: `repeat` iterations (interval between), each with `retries` (delay
 * between), then the `verify:` check after a mutating command. Facts are captured from every
 * iteration's last attempt, the last iteration winning.
 */
async function runShellOnHost(e: Engine, step: StepOf<'run'>, host: Host): Promise<HostOutcome> {
  const template = step.templates.run;
  const count = step.repeat?.count ?? 1;
  const verify = step.mutates ? step.templates.verify : undefined;
  // The last attempt so far (set inside the retry loop's attempts).
  const seen: { last: Attempt | null } = { last: null };
  for (let it = 1; it <= count; it++) {
    const iteration = step.repeat ? it : undefined;
    let command: WrappedCommand;
    try {
      command = renderForHost(e, step, host, template);
    } catch (err) {
      return failedBeforeRunning(e, step, host.name, `cannot render the command: ${errorMessage(err)}`, { meta: { attempt: 1, iteration } });
    }
    const tried = await retrying(e, { retries: step.retries, delayMs: step.delayMs }, async (attempt, again) => {
      const a = await execAttempt(e, { step, host, command, attempt, iteration, timeoutMs: step.timeoutMs });
      seen.last = a;
      const passed = a.status === 'ok';
      // An attempt an interruption keeps from being retried is not final: resume picks it up.
      const wouldRetry = again(!passed && a.status !== 'unreachable');
      const captured = wouldRetry ? {} : captureInto(e, step, host, a);
      const final = !wouldRetry && (!passed || (it === count && !verify));
      endAttempt(e, step, host.name, a, { status: passed && step.mutates ? 'changed' : a.status, final, ...captured });
      if (passed && step.mutates) e.state.changed = true;
      return outcomeOf(host.name, a);
    });
    if (tried.interrupted || tried.status !== 'ok') return tried;
    if (it < count) {
      if (e.stop.aborted) return { ...tried, interrupted: true };
      await e.clock.sleep(step.repeat?.intervalMs ?? 0, e.stop);
      if (e.stop.aborted) return { ...tried, interrupted: true };
    }
  }
  const done = seen.last as Attempt;
  if (!verify) return outcomeOf(host.name, done, step.mutates ? 'changed' : 'ok');
  return verifyChange(e, step, host, verify, done);
}
