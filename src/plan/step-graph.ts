// The executor's control flow as a graph (`remedy graph`, the web console's picture): which step
// can run after which, under which cause. It is not drawn from the runbook's shape but worked out
// with the executor's own rules — step order, `when` evaluated by the same CEL evaluator (the cause
// is known on each branch, facts and host states are not), `goto` resolved by resolveGoto, the
// transition function the executor's loop calls (nextStepIndex), rollback lists, outcomes ending
// the run — so the graph never shows a path the executor would not take. A test runs every lab
// scenario and checks that the steps a run really started form a path of this graph.
import { evaluateCondition } from '../template/expression.js';
import { DEFERRED_ROOTS, renderVars } from './scope.js';
import type { Plan, PlanStep } from './types.js';

/** The qualified id of a goto target: same include level as the step first, then as written. */
export function resolveGoto(plan: Plan, from: PlanStep, target: string): number {
  const dot = from.id.lastIndexOf('.');
  const prefix = dot >= 0 ? from.id.slice(0, dot + 1) : '';
  let index = plan.steps.findIndex((s) => s.id === `${prefix}${target}`);
  if (index < 0) index = plan.steps.findIndex((s) => s.id === target);
  return index;
}

/**
 * Where the executor's loop goes after the step at `index` says "next" or "goto": the index of
 * the step to run (plan.steps.length: past the last one), or the goto target that does not exist.
 * One function, so the graph below follows exactly what the executor does.
 */
export function nextStepIndex(plan: Plan, index: number, flow: { kind: 'next' } | { kind: 'goto'; target: string }): { index: number } | { missing: string } {
  if (flow.kind === 'next') return { index: index + 1 };
  const target = resolveGoto(plan, plan.steps[index] as PlanStep, flow.target);
  return target < 0 ? { missing: flow.target } : { index: target };
}

/** Graph nodes that are not steps. */
export const GRAPH_START = '(start)';
export const GRAPH_ENDS = {
  resolved: '(resolved)',
  'nothing-to-do': '(nothing-to-do)',
  escalated: '(escalated)',
  failed: '(failed)',
  /** The last step ran, no outcome step ended the run and no cause was decided: the outcome follows from what ran. */
  end: '(end of runbook)',
} as const;

export type EdgeKind = 'next' | 'decide' | 'goto' | 'rollback' | 'failure' | 'outcome' | 'unproven';

export interface GraphEdge {
  from: string;
  to: string;
  kind: EdgeKind;
  /** The causes under which the executor takes this edge ('' : before any decide step ran). */
  causes: string[];
}

export interface GraphNode {
  id: string;
  /** null for start and end nodes. */
  step: PlanStep | null;
  /** Set on rollback steps: the step they undo. */
  rollbackOf?: string | undefined;
  /** The causes under which the executor may run it ('' : before any decide). */
  causes: string[];
}

export interface StepGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

type Verdict = 'runs' | 'skipped' | 'maybe';

/**
 * Whether the executor runs `step` when the cause is `cause`: its `when` evaluated as the executor
 * evaluates it, with the cause known and everything learnt at run time (facts, host states,
 * `steps`, hosts()) unknown. CEL's && and || absorb an unknown operand when the other side decides,
 * so `cause == "mps-down" && !facts.mp_running` is definitely false on every other branch.
 */
function verdictOf(step: PlanStep, cause: string, hostsKnown: boolean): Verdict {
  // A host step whose pattern selects no host (after --limit) is skipped whatever its `when`.
  if (hostsKnown && step.hostPattern !== null && step.hosts.length === 0) return 'skipped';
  if (step.when === null) return 'runs';
  const vars = Object.fromEntries(Object.entries(renderVars(step.scope, null, DEFERRED_ROOTS)).filter(([, v]) => !(typeof v === 'string' && v.includes('⟨'))));
  try {
    const value = evaluateCondition(step.when, {
      params: step.scope.params,
      vars,
      cause,
      selectHosts: () => {
        throw new Error('the hosts are only known at run time');
      },
      runtimeUnknown: true,
    });
    return value ? 'runs' : 'skipped';
  } catch {
    return 'maybe';
  }
}

/** The step graph of a plan. */
export function stepGraph(plan: Plan): StepGraph {
  // Planned without an inventory (`remedy graph` draws the runbook): which hosts a step gets is not known.
  const hostsKnown = plan.hosts.length > 0;
  const nodes = new Map<string, GraphNode>();
  const edges = new Map<string, GraphEdge>();
  const order: string[] = [];
  const node = (id: string, step: PlanStep | null, rollbackOf?: string): GraphNode => {
    let n = nodes.get(id);
    if (!n) {
      n = { id, step, rollbackOf, causes: [] };
      nodes.set(id, n);
      order.push(id);
    }
    return n;
  };
  const edge = (from: string, to: string, kind: EdgeKind, cause: string): void => {
    const key = `${from}\u0000${to}\u0000${kind}`;
    let e = edges.get(key);
    if (!e) edges.set(key, (e = { from, to, kind, causes: [] }));
    if (!e.causes.includes(cause)) e.causes.push(cause);
  };
  const seen = new Set<string>();
  const queue: { index: number; cause: string }[] = [];
  const ran = (index: number, cause: string): void => {
    const step = plan.steps[index] as PlanStep;
    const n = node(step.id, step);
    if (!n.causes.includes(cause)) n.causes.push(cause);
    const key = `${index}\u0000${cause}`;
    if (!seen.has(key)) {
      seen.add(key);
      queue.push({ index, cause });
    }
  };
  /** From `from`, the steps the executor may run next starting at `index` (skipping those whose `when` is false). */
  const reach = (from: string[], index: number, cause: string, kind: EdgeKind): void => {
    for (let j = index; j < plan.steps.length; j++) {
      const step = plan.steps[j] as PlanStep;
      const v = verdictOf(step, cause, hostsKnown);
      if (v === 'skipped') continue;
      for (const f of from) edge(f, step.id, kind, cause);
      ran(j, cause);
      if (v === 'runs') return;
    }
    // Past the last step: once a cause is decided, only an outcome step ends a run well; a path
    // without one escalates (the executor's finalOutcome).
    for (const f of from) edge(f, node(cause === '' ? GRAPH_ENDS.end : GRAPH_ENDS.escalated, null).id, kind, cause);
  };
  const afterFailure = (from: string[], index: number, step: PlanStep, cause: string): void => {
    const policy = step.onFailure;
    if (policy.action === 'abort') for (const f of from) edge(f, node(GRAPH_ENDS.failed, null).id, 'failure', cause);
    else if (policy.action === 'goto') {
      const to = nextStepIndex(plan, index, { kind: 'goto', target: policy.step });
      if ('index' in to) reach(from, to.index, cause, 'goto');
      else for (const f of from) edge(f, node(GRAPH_ENDS.failed, null).id, 'failure', cause);
    } else reach(from, index + 1, cause, 'next');
  };

  node(GRAPH_START, null);
  reach([GRAPH_START], 0, '', 'next');
  while (queue.length > 0) {
    const { index, cause } = queue.shift() as { index: number; cause: string };
    const step = plan.steps[index] as PlanStep;
    if (step.kind === 'decide' && step.templates.decide) {
      const spec = step.templates.decide;
      // A guided operator may choose any candidate, so every cause is a branch.
      for (const c of [...new Set([...spec.causes.map((x) => x.cause), spec.default])]) reach([step.id], index + 1, c, 'decide');
      continue;
    }
    if (step.kind === 'outcome' && step.templates.outcome) {
      const spec = step.templates.outcome;
      const status = spec.status === 'escalate' ? 'escalated' : spec.status;
      edge(step.id, node(GRAPH_ENDS[status], null).id, 'outcome', cause);
      if (spec.status !== 'escalate' && spec.require.length > 0) edge(step.id, node(GRAPH_ENDS.escalated, null).id, 'unproven', cause);
      continue;
    }
    const next = nextStepIndex(plan, index, { kind: 'next' });
    if ('index' in next) reach([step.id], next.index, cause, 'next');
    if (step.hostPattern === null) continue;
    // A step that fails: its rollback (mutating steps), then its on_failure policy.
    const failing = step.mutates || step.kind === 'wait' || step.onFailure.action !== 'abort';
    if (!failing) continue;
    let from = [step.id];
    if (step.mutates) {
      for (const rb of step.rollback) {
        const v = verdictOf(rb, cause, hostsKnown);
        if (v === 'skipped') continue;
        const n = node(rb.id, rb, step.id);
        if (!n.causes.includes(cause)) n.causes.push(cause);
        for (const f of from) edge(f, rb.id, 'rollback', cause);
        from = v === 'runs' ? [rb.id] : [...from, rb.id];
      }
    }
    afterFailure(from, index, step, cause);
  }
  // Steps in plan order (rollback steps after the step they undo), then the ends.
  const rank = (id: string): number => {
    if (id === GRAPH_START) return -1;
    const i = plan.steps.findIndex((s) => s.id === id || s.rollback.some((r) => r.id === id));
    return i < 0 ? plan.steps.length + Object.values(GRAPH_ENDS).indexOf(id as never) + 1 : i + (nodes.get(id)?.rollbackOf ? 0.5 : 0);
  };
  const sorted = [...order].sort((a, b) => rank(a) - rank(b));
  return { nodes: sorted.map((id) => nodes.get(id) as GraphNode), edges: [...edges.values()] };
}

/**
 * Whether `stepIds` (the steps a run started, in order) is a path of the graph from its start,
 * with `cause` the cause the run's decide step concluded. Consecutive repeats of one step (rolling
 * batches, an operator's retry) count once.
 */
export function graphPathProblem(graph: StepGraph, stepIds: readonly string[], cause: string | null): string | null {
  const path = stepIds.filter((id, i) => i === 0 || stepIds[i - 1] !== id);
  const decides = new Set(graph.nodes.filter((n) => n.step?.kind === 'decide').map((n) => n.id));
  let current = '';
  let from = GRAPH_START;
  for (const to of path) {
    const after = decides.has(from) ? (cause ?? '') : current;
    const edge = graph.edges.find((e) => e.from === from && e.to === to && e.causes.includes(after));
    if (!edge) {
      const drawn = graph.edges.filter((e) => e.from === from).map((e) => `${e.to} [${e.causes.map((c) => c || '(no cause yet)').join(', ')}]`);
      return `the run went ${from} → ${to}${after ? ` (cause ${after})` : ''}, which the graph does not draw; from ${from} it draws: ${drawn.join('; ') || 'nothing'}`;
    }
    current = after;
    from = to;
  }
  return null;
}
