// What a run knows as it goes: facts per host, the diagnosed cause, which hosts left the run and
// why, what changed. One object, owned by the executor, restored from the journal on resume.
import type { FinalHostStatus } from './events.js';
import { StepLedger } from './ledger.js';

/** Why a host no longer takes part in the run. */
export type DropReason = 'failed' | 'unreachable';

export class RunState {
  readonly facts = new Map<string, Record<string, unknown>>();
  cause: string | null = null;
  /** Hosts out of the rest of the run. */
  readonly dropped = new Map<string, DropReason>();
  /** Hosts whose failure counts against the outcome (not tolerated by `on_failure: continue`/goto). */
  readonly failed = new Set<string>();
  /** Hosts a command was attempted on. */
  readonly attempted = new Set<string>();
  /** Hosts that answered at least once. */
  readonly reached = new Set<string>();
  /** Hosts ever found unreachable. */
  readonly unreachable = new Set<string>();
  /** A mutating step changed something on some host. */
  changed = false;
  /** Hosts whose lock this run holds. */
  readonly locked = new Set<string>();
  /**
   * Hosts whose lock an earlier segment of this run took and never released (a resumed run):
   * released at the end of this segment too, even when this segment never locks them itself.
   */
  readonly inheritedLocks = new Set<string>();
  /** What each step did on each host (fed by the run's own events). */
  readonly steps = new StepLedger();

  factsOf(host: string): Record<string, unknown> {
    let f = this.facts.get(host);
    if (!f) this.facts.set(host, (f = {}));
    return f;
  }

  mergeFacts(host: string, facts: Record<string, unknown>): void {
    Object.assign(this.factsOf(host), facts);
  }

  isActive(host: string): boolean {
    return !this.dropped.has(host);
  }

  drop(host: string, reason: DropReason): void {
    if (reason === 'unreachable') this.unreachable.add(host);
    if (!this.dropped.has(host) || reason === 'unreachable') this.dropped.set(host, reason);
  }

  /** A step failed on the host and the run went on past it (on_failure: continue, or skipped). */
  failedTolerated(host: string): boolean {
    return this.steps.toleratedFor(host).length > 0;
  }

  /** The status a condition sees for a host (`h.status`). */
  statusOf(host: string): 'ok' | 'failed' | 'unreachable' {
    if (this.unreachable.has(host)) return 'unreachable';
    if (this.failed.has(host) || this.dropped.get(host) === 'failed' || this.failedTolerated(host)) return 'failed';
    return 'ok';
  }

  /** result.json's per-host status. */
  finalStatus(host: string): FinalHostStatus {
    if (this.unreachable.has(host) && !this.reached.has(host)) return 'unreachable';
    if (this.dropped.get(host) === 'unreachable') return 'unreachable';
    if (this.failed.has(host) || this.failedTolerated(host)) return 'failed';
    if (this.steps.declinedFor(host).length > 0) return 'not-remediated';
    if (this.attempted.has(host)) return 'ok';
    return 'skipped';
  }
}
