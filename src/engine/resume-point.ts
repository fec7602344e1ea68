// Where a resumed run picks up, rebuilt from the journal alone: the step to start at, which of
// its hosts are done, which started without finishing (re-checked through `verify` before any
// re-run), the facts and cause gathered so far, and which hosts already left the run. The
// journal is read through the one fold of the run's events (journal-fold.ts).
import { RefusedError, UsageError } from '../errors.js';
import type { Plan } from '../plan/types.js';
import type { Engine } from './context.js';
import type { HostStatus, RunEvent } from './events.js';
import type { RunEnding } from './flow.js';
import type { StepResume } from './host-step.js';
import { summarizeJournal } from './journal-fold.js';
import { ledgerFromEvents, type LedgerSnapshot } from './ledger.js';
import type { DropReason } from './state.js';

type Ev<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;

export interface ResumePoint {
  /** The run's id: a resumed run keeps it (backups and `{{ run.id }}` name it; its locks are ours). */
  runId: string;
  /** The start time of the segment being resumed (the run-start it continues). */
  resumedFrom: string;
  /** Every run id the journal names (normally just runId): locks held by any of them are ours. */
  previousRunIds: string[];
  lastSeq: number;
  /** Index into plan.steps to start at (plan.steps.length: nothing left to run). */
  startIndex: number;
  step: StepResume;
  facts: Record<string, Record<string, unknown>>;
  cause: string | null;
  changed: boolean;
  dropped: Record<string, DropReason>;
  failed: string[];
  attempted: string[];
  reached: string[];
  /** Hosts approved per step in earlier segments. */
  approved: Record<string, string[]>;
  /** What each step did on each host in earlier segments. */
  ledger?: LedgerSnapshot | undefined;
  /** Hosts whose lock an earlier segment took and the journal never shows released. */
  heldLocks?: string[] | undefined;
  /**
   * The outcome step's ending when an earlier segment already reached one (the controller died
   * between the outcome and run-end): the resumed run ends with it, not with a fallback.
   */
  ending?: RunEnding | undefined;
  /** Said in the journal when the resumed run starts. */
  warnings: string[];
}

export interface ResumeOptions {
  /** Re-run the hosts that failed (or were unreachable) at the step the run stopped at. */
  retryFailed: boolean;
}

const OUTCOME_OF: Record<Ev<'outcome'>['status'], RunEnding['outcome']> = { resolved: 'resolved', escalate: 'escalated', 'nothing-to-do': 'nothing-to-do' };

const DONE: ReadonlySet<HostStatus> = new Set(['ok', 'changed', 'skipped']);

export function resumePointFromEvents(plan: Plan, events: RunEvent[], options: ResumeOptions): ResumePoint {
  const run = summarizeJournal(events);
  const firstRunId = run.runIds[0];
  if (firstRunId === undefined || run.segmentStartedAt === null) throw new UsageError('the journal has no run-start event: nothing to resume');
  if (run.planHash !== plan.planHash) {
    throw new RefusedError(
      `the plan changed since the run started (hash ${plan.planHash}, journal ${run.planHash}): the runbook, inventory or params differ; start a new run instead`,
    );
  }
  // The latest segment's ending (a new run-start clears the one before).
  const end = run.ended ? run.outcome : null;
  if (end === 'resolved' || end === 'nothing-to-do' || end === 'escalated') {
    throw new RefusedError(`the run already ended (${end}): nothing to resume`);
  }
  const warnings: string[] = [];
  const point: ResumePoint = {
    runId: firstRunId,
    resumedFrom: run.segmentStartedAt,
    previousRunIds: run.runIds,
    lastSeq: run.lastSeq,
    startIndex: 0,
    step: { done: new Set(), unfinished: new Set() },
    facts: run.facts,
    cause: run.decided,
    changed: run.changed,
    dropped: { ...run.left },
    failed: [],
    attempted: run.attempted,
    reached: run.reached,
    approved: Object.fromEntries(Object.entries(run.approvals).map(([step, a]) => [step, a.hosts])),
    ledger: ledgerFromEvents(
      events,
      plan.steps.filter((s) => s.skippable).map((s) => s.id),
      plan.hosts,
    ).snapshot(),
    heldLocks: run.heldLocks,
    warnings,
  };
  const failed = new Set(run.failedHosts);

  // The step the run stopped in: the last one started (a rollback stands for the step it undoes).
  const stepIndex = (id: string): number => plan.steps.findIndex((s) => s.id === id);
  let retryHosts: string[] = [];
  if (run.lastStepStart) {
    const inRollback = run.lastStepStart.rollbackOf !== undefined;
    const stepId = run.lastStepStart.rollbackOf ?? run.lastStepStart.step;
    const index = stepIndex(stepId);
    if (index < 0) throw new RefusedError(`the journal stops in step ${stepId}, which the plan does not have`);
    const visit = run.steps.find((s) => s.id === stepId)?.visit ?? { hosts: {}, end: null };
    const stepEnd = visit.end;
    const perHost = Object.entries(visit.hosts);
    const failedHere = perHost.filter(([, s]) => s.final && !DONE.has(s.status)).map(([h]) => h);
    if (inRollback) warnings.push(`the rollback of step ${stepId} was interrupted; its failed hosts are left as they are`);
    if (stepEnd && !inRollback && (stepEnd.status !== 'failed' || stepEnd.next) && end !== 'refused') {
      // The step finished: go where the run was going.
      point.startIndex = stepEnd.next === null ? plan.steps.length : stepEnd.next !== undefined ? stepIndex(stepEnd.next) : index + 1;
      if (point.startIndex < 0) throw new RefusedError(`the journal continues at step ${stepEnd.next}, which the plan does not have`);
    } else {
      point.startIndex = index;
      for (const [h, s] of perHost) {
        if (s.final && DONE.has(s.status)) point.step.done.add(h);
        else if (!s.final) point.step.unfinished.add(h);
      }
      retryHosts = inRollback ? [] : failedHere;
      if (inRollback) {
        // Their failure stands (the rollback was cut short): out of the run, counted as failed.
        for (const h of failedHere) {
          point.step.done.add(h);
          point.dropped[h] = 'failed';
          failed.add(h);
        }
      }
      if (!inRollback && failedHere.length > 0 && !options.retryFailed) {
        throw new RefusedError(`step ${stepId} failed on ${failedHere.join(', ')}; resume with --retry-failed to run it again on those hosts only`);
      }
    }
    if ((end === 'failed' || end === 'unreachable') && !options.retryFailed) {
      throw new RefusedError(`the run ended ${end}${run.endMessage ? ` (${run.endMessage})` : ''}; resume with --retry-failed to run the failed hosts again`);
    }
    if (options.retryFailed && retryHosts.length === 0) warnings.push('--retry-failed: no host had failed where the run stopped; nothing is retried');
  }
  // Hosts that get another chance rejoin the run.
  for (const h of retryHosts) {
    delete point.dropped[h];
    failed.delete(h);
  }
  // The run had walked its whole path and an outcome step had said how it ends: keep that ending.
  const outcome = run.outcomeStep;
  if (outcome && point.startIndex >= plan.steps.length) point.ending = { outcome: OUTCOME_OF[outcome.status], step: outcome.step, message: outcome.message };
  point.failed = [...failed];
  return point;
}

/** Restores the run state from a resume point; returns the step index to start at. */
export function applyResumePoint(e: Engine, point: ResumePoint): number {
  for (const [h, f] of Object.entries(point.facts)) e.state.mergeFacts(h, f);
  e.state.cause = point.cause;
  e.state.changed = point.changed;
  for (const [h, why] of Object.entries(point.dropped)) e.state.drop(h, why);
  for (const h of point.failed) e.state.failed.add(h);
  for (const h of point.attempted) e.state.attempted.add(h);
  for (const h of point.reached) e.state.reached.add(h);
  for (const [step, hosts] of Object.entries(point.approved)) e.approvedEarlier.set(step, new Set(hosts));
  if (point.ledger) e.state.steps.restore(point.ledger);
  for (const h of point.heldLocks ?? []) e.state.inheritedLocks.add(h);
  return point.startIndex;
}
