// Probe previews: from the first mutation that would run, what every remaining step would do,
// rendered with the facts the read-only diagnosis gathered (properties diffs from the real
// files). Nothing here changes a host: the only commands sent are file reads. Each step's
// action (actions/) says what it would do.
import type { PlanStep, PlannedCommand } from '../plan/types.js';
import { actionFor } from './actions/registry.js';
import { hostOf, type Engine } from './context.js';

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
  const action = actionFor(step);
  if (action.on === 'controller') {
    action.preview(e, step, p, first);
    return p;
  }
  // Which hosts it would run on, judged with the facts known now; the action says what it would do there.
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
  await action.preview(e, step, [...p.hosts, ...p.undetermined], p);
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
