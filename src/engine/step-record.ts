// A host step's bookkeeping across its batches (counts per status, hosts tolerated past a
// failure, what it changed in the run's membership) and its step-end, which a resume reads.
import type { PlanStep } from '../plan/types.js';
import type { Engine } from './context.js';
import type { HostStatus } from './events.js';
import { zeroCounts } from './flow.js';
import { emitSkipped } from './host-exec.js';
import type { HostStepOptions } from './host-step.js';
import type { HostOutcome } from './strategy.js';

/** A step's bookkeeping across its batches, and its step-end. */
export class StepRecord {
  readonly counts = zeroCounts();
  readonly tolerated = new Set<string>();
  unreachable = 0;
  lossy = false;
  ranAny = false;
  readonly #started: number;
  readonly #droppedBefore: Set<string>;
  readonly #failedBefore: Set<string>;

  private readonly e: Engine;
  private readonly step: PlanStep;
  private readonly options: HostStepOptions;

  constructor(e: Engine, step: PlanStep, options: HostStepOptions) {
    this.e = e;
    this.step = step;
    this.options = options;
    this.#started = e.clock.now();
    this.#droppedBefore = new Set(e.state.dropped.keys());
    this.#failedBefore = new Set(e.state.failed);
  }

  tally(outcomes: Iterable<HostOutcome>): void {
    for (const o of outcomes) this.counts[o.status]++;
  }

  skip(host: string, reason: string, status: HostStatus = 'skipped'): void {
    emitSkipped(this.e, this.step, host, reason, status);
    this.counts[status]++;
  }

  end(status: 'ok' | 'failed' | 'skipped' | 'partial', next: string | null | undefined): void {
    const { e, step } = this;
    // What this step changed in the run's membership, so a resume can rebuild it from the journal.
    const left = Object.fromEntries([...e.state.dropped].filter(([h]) => !this.#droppedBefore.has(h)));
    const failedHosts = [...e.state.failed].filter((h) => !this.#failedBefore.has(h));
    e.emitter.emit({
      type: 'step-end',
      step: step.id,
      status,
      durationMs: Math.round(e.clock.now() - this.#started),
      counts: this.counts,
      next: this.options.rollbackOf === undefined ? next : undefined,
      left: Object.keys(left).length > 0 ? left : undefined,
      failedHosts: failedHosts.length > 0 ? failedHosts : undefined,
      tolerated: this.tolerated.size > 0 ? [...this.tolerated] : undefined,
    });
  }
}
