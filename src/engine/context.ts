// The executor's shared context: everything a step needs to run on hosts, passed explicitly.
import type { Host, Inventory } from '../inventory/types.js';
import type { HostRuntime } from '../plan/render-host.js';
import type { Plan, PlanStep } from '../plan/types.js';
import type { Transport } from '../transport/types.js';
import type { Conditions } from './conditions.js';
import type { Emitter } from './emitter.js';
import type { HostLeases } from './lease.js';
import type { OutputStore } from './outputs.js';
import type { RunState } from './state.js';
import type { Strategy } from './strategy.js';
import type { Clock } from './timing.js';

/** Where transports come from: the ssh2/local pool, or a fake in tests. */
export interface TransportSource {
  get(host: Host): Transport;
}

export interface Engine {
  plan: Plan;
  inventory: Inventory;
  transports: TransportSource;
  strategy: Strategy;
  emitter: Emitter;
  state: RunState;
  conditions: Conditions;
  clock: Clock;
  outputs: OutputStore;
  runId: string;
  /** Earlier run ids of this run (before resumes): their host locks are ours. */
  previousRunIds: string[];
  runDir: string | null;
  forks: number;
  /** First Ctrl-C: start nothing new. */
  stop: AbortSignal;
  /** Second Ctrl-C: kill what runs. */
  kill: AbortSignal;
  breakLock: boolean;
  controller: string;
  pid: number;
  /** Hosts already approved per step (carried over by resume). */
  approvedEarlier: Map<string, Set<string>>;
  /** Host leases with fencing tokens (remedy serve); null for the CLI. */
  leases: HostLeases | null;
}

/** What run-time templates read: the plan, the inventory and the run's state (an Engine has them all). */
export type RunRecordView = Pick<Engine, 'plan' | 'inventory' | 'state' | 'runId' | 'runDir'>;

export function hostOf(e: Engine, name: string): Host {
  const host = e.inventory.hosts.get(name);
  if (!host) throw new Error(`host ${name} is in the plan but not in the inventory`);
  return host;
}

export { resolveGoto } from '../plan/step-graph.js';

/**
 * What templates see at run time on a host (or the controller): facts, cause, run.id/run.dir,
 * and, for a step, `steps`: what every step did so far (status and hosts per status).
 */
export function runtimeFor(e: RunRecordView, host: string | null, step?: PlanStep | undefined): HostRuntime {
  const runtime: HostRuntime = { facts: host === null ? {} : e.state.factsOf(host), cause: e.state.cause, run: { id: e.runId, dir: e.runDir ?? '' } };
  if (step !== undefined) runtime.steps = e.state.steps.scopeFor(stepIds(e.plan), step.id);
  if (host === null) runtime.fleet = fleetView(e);
  return runtime;
}

const planStepIds = new WeakMap<Plan, string[]>();
function stepIds(plan: Plan): string[] {
  let ids = planStepIds.get(plan);
  if (!ids) planStepIds.set(plan, (ids = plan.steps.map((s) => s.id)));
  return ids;
}

/**
 * `fleet.<group>` for controller templates: the run's hosts of each inventory group (and `all`),
 * in inventory order, each {name, status, facts}, computed when a template reads the group.
 */
function fleetView(e: RunRecordView): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const groups = new Set<string>(['all']);
  for (const h of e.plan.hosts) for (const g of e.inventory.hosts.get(h)?.groups ?? []) groups.add(g);
  for (const group of groups) {
    let cached: unknown[] | undefined;
    Object.defineProperty(out, group, {
      enumerable: true,
      get: () =>
        (cached ??= e.plan.hosts
          .filter((h) => group === 'all' || (e.inventory.hosts.get(h)?.groups ?? []).includes(group))
          .map((h) => ({ name: h, status: e.state.statusOf(h), facts: e.state.factsOf(h) }))),
    });
  }
  return out;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
