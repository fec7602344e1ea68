// `remedy plan --probe`: the read-only diagnosis runs for real, decisions and conditions are
// resolved, and the first mutation that would run stops the run; from there on every step is
// previewed (hosts, commands with facts filled in, properties diffs from the real files).
// No mutating step ever runs, no lock is taken.
import { randomUUID } from 'node:crypto';
import type { Inventory } from '../inventory/types.js';
import type { Plan } from '../plan/types.js';
import type { TransportSource } from './context.js';
import type { NoticeRelay } from './emitter.js';
import type { EventSink } from './events.js';
import { executePlan, type RunResult } from './executor.js';
import type { ProbeStepPreview } from './preview.js';
import { ProbeStrategy } from './strategy.js';
import type { Clock } from './timing.js';

export interface ProbeOptions {
  inventory: Inventory;
  transports: TransportSource;
  sinks?: EventSink[] | undefined;
  runId?: string | undefined;
  /** Keep outputs (and the journal, if a sink writes one) here; null: nothing on disk. */
  runDir?: string | null | undefined;
  operator: string;
  forks?: number | undefined;
  signal?: AbortSignal | undefined;
  killSignal?: AbortSignal | undefined;
  clock?: Clock | undefined;
  /** Transport notices (host keys recorded…), emitted as warnings. */
  notices?: NoticeRelay | undefined;
}

export interface ProbeResult extends RunResult {
  /** The first mutating step that would run (null: none would). */
  stoppedAt: string | null;
  /** Every step from there on, previewed. */
  steps: ProbeStepPreview[];
  /** The mutating steps among them that would run on some host (or may, once facts are known). */
  mutations: ProbeStepPreview[];
}

export async function probe(plan: Plan, options: ProbeOptions): Promise<ProbeResult> {
  const result = await executePlan({
    plan,
    inventory: options.inventory,
    transports: options.transports,
    strategy: new ProbeStrategy({ operator: options.operator }),
    sinks: options.sinks ?? [],
    runId: options.runId ?? `probe-${randomUUID().slice(0, 8)}`,
    runDir: options.runDir ?? null,
    forks: options.forks,
    signal: options.signal,
    killSignal: options.killSignal,
    clock: options.clock,
    notices: options.notices,
  });
  const steps = result.probe?.steps ?? [];
  return {
    ...result,
    stoppedAt: result.probe?.stoppedAt ?? null,
    steps,
    mutations: steps.filter((s) => s.mutates && (s.hosts.length > 0 || s.undetermined.length > 0)),
  };
}
