// Probe previews: from the first mutation that would run, what every remaining step would do,
// rendered with the facts the read-only diagnosis gathered (properties diffs from the real
// files). Nothing here changes a host: the only commands sent are file reads.
import type { PlanStep, PlannedCommand } from '../plan/types.js';
import { errorMessage, hostOf, type Engine } from './context.js';
import { renderForHost } from './host-actions.js';
import { isPreview, previewProperties } from './properties-action.js';
import { mapBounded } from './timing.js';

export interface ProbeStepPreview {
  id: string;
  name: string;
  kind: PlanStep['kind'];
  mutates: boolean;
  confirm: string | null;
  /** The step's condition in words, when it has one. */
  condition: string | null;
  /** Hosts it would run on, judged with the facts known now. */
  hosts: string[];
  /** Hosts whose condition cannot be judged yet (it reads facts gathered later, or the cause). */
  undetermined: string[];
  /** Properties already as wanted on these hosts: nothing would be written. */
  unchanged: string[];
  commands: PlannedCommand[];
  diffs: Record<string, string>;
  note?: string | undefined;
}

function base(e: Engine, step: PlanStep): ProbeStepPreview {
  return {
    id: step.id,
    name: step.name,
    kind: step.kind,
    mutates: step.mutates,
    confirm: step.confirm === null ? null : e.emitter.redactor.redact(step.confirm),
    condition: step.whenText ?? step.when,
    hosts: [],
    undetermined: [],
    unchanged: [],
    commands: [],
    diffs: {},
  };
}

async function previewStep(e: Engine, step: PlanStep, first: boolean): Promise<ProbeStepPreview> {
  const p = base(e, step);
  const redact = (s: string): string => e.emitter.redactor.redact(s);
  if (step.kind === 'decide') {
    p.note = first ? undefined : 'decided at run time, from the facts gathered after the steps above';
    return p;
  }
  if (step.kind === 'outcome' || step.kind === 'bundle' || (step.kind === 'pause' && step.hostPattern === null)) {
    if (step.when !== null) {
      try {
        p.note = e.conditions.evaluate(step.when, step, null) ? 'condition holds with the facts known now' : 'condition is false with the facts known now';
      } catch {
        p.note = 'condition decided at run time';
      }
    }
    if (step.templates.outcome) p.commands.push({ host: 'controller', command: redact(`${step.templates.outcome.status}: ${step.templates.outcome.message}`) });
    if (step.templates.bundle) p.commands.push({ host: 'controller', command: redact(`bundle artifacts into artifacts/${step.templates.bundle.name}`) });
    return p;
  }
  for (const name of step.hosts) {
    if (!e.state.isActive(name)) continue;
    if (step.when === null) p.hosts.push(name);
    else {
      try {
        if (e.conditions.evaluate(step.when, step, hostOf(e, name))) p.hosts.push(name);
      } catch {
        p.undetermined.push(name);
      }
    }
  }
  const planned = new Map<string, PlannedCommand[]>();
  for (const c of step.commands) planned.set(c.host, [...(planned.get(c.host) ?? []), c]);
  const consider = [...p.hosts, ...p.undetermined];
  if (step.templates.properties) {
    const previews = await mapBounded(consider, e.forks, (name) => previewProperties(e, step, hostOf(e, name)));
    consider.forEach((name, i) => {
      const r = previews[i];
      if (r && isPreview(r)) {
        if (!r.changed) p.unchanged.push(name);
        else p.diffs[name] = redact(r.diff);
        p.commands.push({ host: name, command: redact(`edit ${r.file}`) });
      } else {
        p.commands.push({ host: name, command: redact(`edit (cannot read the file: ${r?.error ?? 'unknown'})`) });
      }
    });
    p.hosts = p.hosts.filter((h) => !p.unchanged.includes(h));
    return p;
  }
  for (const name of consider) {
    const host = hostOf(e, name);
    const templates: [string, string | undefined][] = [
      ['', step.templates.run ?? step.templates.wait?.run],
      ['verify: ', step.mutates ? step.templates.verify?.run : undefined],
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
    if (step.templates.fetch) p.commands.push(...(planned.get(name) ?? []));
    if (step.templates.pauseMs !== undefined && step.kind === 'pause') p.commands.push({ host: name, command: `pause ${step.templates.pauseMs} ms` });
  }
  return p;
}

/** Previews plan.steps[from..] in plan order (goto targets are listed where they stand). */
export async function previewFrom(e: Engine, from: number): Promise<ProbeStepPreview[]> {
  const out: ProbeStepPreview[] = [];
  for (let i = from; i < e.plan.steps.length; i++) {
    out.push(await previewStep(e, e.plan.steps[i] as PlanStep, i === from));
  }
  return out;
}
