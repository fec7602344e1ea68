// Flow warnings for `remedy validate`: what the step graph (step-graph.ts, the executor's own
// transition rules) shows about a runbook that its schema cannot. Today one thing: a cause whose
// path can run past the last step without an outcome step. The executor ends such a run
// `escalated` (exit 3) whatever it fixed — right, since no step claimed the all-clear — but the
// author most likely forgot the outcome step, and finding out from a live incident is too late.
import type { Diagnostic } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import type { LoadedRunbook } from '../runbook/index.js';
import { planRunbook } from './planner.js';
import { GRAPH_ENDS, stepGraph, type StepGraph } from './step-graph.js';
import type { PlanStep } from './types.js';

/** The causes under which a run can pass the last step with no outcome step ending it, and the steps it leaves from. */
export function causesWithoutOutcome(graph: StepGraph): { cause: string; after: string[] }[] {
  const byCause = new Map<string, string[]>();
  for (const e of graph.edges) {
    // Ending escalated through an outcome step (or its unproven all-clear) is the runbook's own word.
    if (e.to !== GRAPH_ENDS.escalated || e.kind === 'outcome' || e.kind === 'unproven') continue;
    for (const cause of e.causes) if (cause !== '') byCause.set(cause, [...(byCause.get(cause) ?? []), e.from]);
  }
  return [...byCause].map(([cause, after]) => ({ cause, after }));
}

/**
 * Warnings at the decide step that names each such cause. A runbook that cannot be planned
 * without arguments (a required param, an inventory var) gets none: its plan is not known here.
 */
export function flowDiagnostics(loaded: LoadedRunbook, inventory: Inventory): Diagnostic[] {
  let graph: StepGraph;
  try {
    graph = stepGraph(planRunbook({ loaded, inventory }));
  } catch {
    return [];
  }
  const decides = graph.nodes.flatMap((n) => (n.step?.kind === 'decide' ? [n.step] : []));
  const out: Diagnostic[] = [];
  for (const { cause, after } of causesWithoutOutcome(graph)) {
    const decide: PlanStep | undefined = decides.find(
      (s) => s.templates.decide?.causes.some((c) => c.cause === cause) || s.templates.decide?.default === cause,
    );
    if (!decide) continue;
    const { file, line, col } = decide.source;
    out.push({
      file,
      line,
      col,
      severity: 'warning',
      message: `cause ${JSON.stringify(cause)} can reach the end of the runbook without an outcome step (after ${[...new Set(after)].join(', ')}): such a run ends escalated (exit 3) whatever it fixed; add an outcome step on its path`,
    });
  }
  return out;
}
