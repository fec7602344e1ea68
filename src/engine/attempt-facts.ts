// The facts an attempt's output gives a host (the step's `capture:`), merged into the run state
// and journaled with the attempt's host-end. Shared by the kinds that capture: run and wait.
import type { Host } from '../inventory/types.js';
import type { PlanStep } from '../plan/types.js';
import { applyCaptures } from './capture.js';
import type { Engine } from './context.js';
import type { Attempt } from './host-exec.js';

export interface Captured {
  facts?: Record<string, unknown> | undefined;
  unsetFacts?: string[] | undefined;
}

/**
 * The facts an attempt's output gives. A command that failed (non-zero exit, timed out, killed)
 * gives none: its captures are left unset, never defaulted, so a condition reading them cannot be
 * evaluated and an all-clear cannot rest on them. Only a capture of the exit code itself keeps
 * the code the host returned (a timeout or a kill returned none: unset too).
 */
export function captureInto(e: Engine, step: PlanStep, host: Host, a: Attempt): Captured {
  if (!a.result || Object.keys(step.capture).length === 0) return {};
  const output = { exitCode: a.result.exitCode, stdout: a.result.stdout, stderr: a.result.stderr };
  if (a.status !== 'ok') {
    const kept = Object.fromEntries(Object.entries(step.capture).filter(([, spec]) => output.exitCode !== null && isExitCodeCapture(spec)));
    const { facts } = applyCaptures(kept, output);
    const unset = Object.keys(step.capture).filter((name) => !(name in facts));
    const current = e.state.factsOf(host.name);
    for (const name of unset) delete current[name];
    e.state.mergeFacts(host.name, facts);
    if (unset.length > 0) {
      const how = a.result.exitCode !== null ? `exited ${a.result.exitCode}` : a.status;
      e.emitter.emit({
        type: 'warning',
        step: step.id,
        host: host.name,
        message: `the command ${how}: ${unset.join(', ')} left unset (a failed command gives no facts)`,
      });
    }
    return { facts, unsetFacts: unset.length > 0 ? unset : undefined };
  }
  const { facts, problems } = applyCaptures(step.capture, output);
  for (const message of problems) e.emitter.emit({ type: 'warning', step: step.id, host: host.name, message });
  e.state.mergeFacts(host.name, facts);
  return { facts };
}

function isExitCodeCapture(spec: Parameters<typeof applyCaptures>[0][string]): boolean {
  if (typeof spec === 'string') return spec === 'exit_code';
  return spec.from === 'exit_code' && spec.regex === undefined && spec.json !== true;
}
