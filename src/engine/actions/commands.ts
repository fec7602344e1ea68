// What the command-running kinds (run, wait, fetch, pause on hosts) would do, rendered per host:
// the commands an approval shows, and a probe's preview with the facts known now. Each action
// says which command template is its own (`command`), so nothing here asks a step's kind.
import { verifyOf, type PlannedCommand, type PlanStep } from '../../plan/types.js';
import { errorMessage, hostOf, type Engine } from '../context.js';
import { renderForHost } from '../host-exec.js';
import type { ProbeStepPreview } from '../preview.js';
import type { PreparedChange } from './action.js';

/** The step's command and its verify, rendered for each host (a render failure is shown, not thrown). */
export async function prepareCommands(e: Engine, step: PlanStep, hosts: string[], command: string | undefined): Promise<PreparedChange> {
  const redact = (s: string): string => e.emitter.redactor.redact(s);
  const prepared: PreparedChange = { wouldRun: [], unchanged: [], failedEarly: [], commands: [], diffs: {} };
  for (const name of hosts) {
    prepared.wouldRun.push(name);
    const host = hostOf(e, name);
    const templates = [command, verifyOf(step)?.run];
    templates.forEach((t, i) => {
      if (t === undefined) return;
      let command: string;
      try {
        command = renderForHost(e, step, host, t).command;
      } catch (err) {
        command = `⟨cannot render: ${errorMessage(err)}⟩`;
      }
      prepared.commands.push({ host: name, command: redact(i === 1 ? `verify: ${command}` : command) });
    });
  }
  return prepared;
}

/**
 * Probe: the step's command (or check) and, for a mutating step, its verify, rendered per host;
 * where a fact is gathered later, the plan's rendering with ⟨markers⟩. `extra` adds what the
 * kind does besides (a fetch's planned copy, a pause).
 */
export function previewCommands(
  e: Engine,
  step: PlanStep,
  hosts: string[],
  p: ProbeStepPreview,
  command: string | undefined,
  extra?: (host: string, planned: PlannedCommand[]) => PlannedCommand[],
): void {
  const redact = (s: string): string => e.emitter.redactor.redact(s);
  const planned = new Map<string, PlannedCommand[]>();
  for (const c of step.commands) planned.set(c.host, [...(planned.get(c.host) ?? []), c]);
  for (const name of hosts) {
    const host = hostOf(e, name);
    const templates: [string, string | undefined][] = [
      ['', command],
      ['verify: ', step.mutates ? verifyOf(step)?.run : undefined],
    ];
    let fellBack = false;
    for (const [prefix, t] of templates) {
      if (t === undefined) continue;
      try {
        p.commands.push({ host: name, command: redact(`${prefix}${renderForHost(e, step, host, t).command}`) });
      } catch (err) {
        // A fact gathered later: show the plan's rendering, with ⟨markers⟩ for what is not known yet.
        if (!fellBack) p.commands.push(...(planned.get(name) ?? [{ host: name, command: `⟨${errorMessage(err)}⟩` }]));
        fellBack = true;
      }
    }
    if (extra) p.commands.push(...extra(name, planned.get(name) ?? []));
  }
}

/** A controller step's preview note: does its condition hold with the facts known now? */
export function conditionNote(e: Engine, step: PlanStep, p: ProbeStepPreview): void {
  if (step.when === null) return;
  try {
    p.note = e.conditions.evaluate(step.when, step, null) ? 'condition holds with the facts known now' : 'condition is false with the facts known now';
  } catch {
    p.note = 'condition decided at run time';
  }
}
