// The runbook's control flow as a Mermaid flowchart (`remedy graph`, `remedy plan --format
// mermaid`, the web console): drawn from the executor's step graph (step-graph.ts), so every
// arrow is a transition the executor can take. An arrow is labelled with the causes it holds for
// when it does not hold for every cause its step runs under; dotted arrows are failure paths
// (rollback, on_failure), and an all-clear outcome whose `require` does not hold escalates.
import { describeStep } from './describe.js';
import { GRAPH_ENDS, GRAPH_START, stepGraph, type GraphEdge, type GraphNode } from './step-graph.js';
import type { Plan } from './types.js';

export function renderPlanMermaid(plan: Plan): string {
  const graph = stepGraph(plan);
  const ids = new Map<string, string>();
  const lines = ['flowchart TD'];
  const endLabel: Record<string, string> = {
    [GRAPH_ENDS.resolved]: 'resolved (exit 0)',
    [GRAPH_ENDS['nothing-to-do']]: 'nothing-to-do (exit 0)',
    [GRAPH_ENDS.escalated]: 'escalated (exit 3)',
    [GRAPH_ENDS.failed]: 'failed (exit 1)',
    [GRAPH_ENDS.end]: 'end of runbook: the outcome follows from what ran',
  };
  graph.nodes.forEach((n, i) => {
    const id = n.id === GRAPH_START ? 'start' : `s${i}`;
    ids.set(n.id, id);
    lines.push(`  ${id}${shape(plan, n, endLabel[n.id])}`);
    if (n.step?.mutates) lines.push(`  class ${id} mutating`);
  });
  const byNode = new Map(graph.nodes.map((n) => [n.id, n]));
  for (const e of graph.edges) {
    const from = ids.get(e.from) as string;
    const to = ids.get(e.to) as string;
    const text = edgeLabel(e, byNode.get(e.from) as GraphNode);
    const arrow = e.kind === 'rollback' || e.kind === 'failure' || e.kind === 'goto' || e.kind === 'unproven' ? '-.->' : '-->';
    lines.push(`  ${from} ${arrow}${text ? `|${label(text)}|` : ''} ${to}`);
  }
  lines.push('  classDef mutating fill:#fde2e1,stroke:#c0392b,stroke-width:2px');
  return `${lines.join('\n')}\n`;
}

function shape(plan: Plan, n: GraphNode, end: string | undefined): string {
  if (n.id === GRAPH_START) return `([${label(plan.runbook)}])`;
  if (end !== undefined) return `((${label(end)}))`;
  const step = n.step;
  if (!step) return `[${label(n.id)}]`;
  const text = `${n.rollbackOf ? 'rollback ' : ''}${step.id}: ${step.name}`;
  const described = describeStep(step);
  if (described.shape === 'decision') return `{${label(described.label ?? text)}}`;
  if (described.shape === 'end') return `([${label(described.label ?? text)}])`;
  return step.mutates ? `[/${label(text)}/]` : `[${label(text)}]`;
}

function edgeLabel(e: GraphEdge, from: GraphNode): string {
  const causes = e.causes.filter((c) => c !== '');
  const kind: Partial<Record<GraphEdge['kind'], string>> = { rollback: 'fails', failure: 'fails', goto: 'on failure', unproven: 'require does not hold' };
  const prefix = kind[e.kind];
  // A decide branch is always named; elsewhere only when the arrow holds for some causes only.
  const partial = e.kind === 'decide' || from.causes.some((c) => !e.causes.includes(c));
  const which = partial && causes.length > 0 ? causes.join(', ') : '';
  return [prefix, which].filter((s) => s).join(': ');
}

function label(text: string): string {
  return `"${text.replace(/"/g, '#quot;').replace(/[[\]{}()<>]/g, ' ')}"`;
}
