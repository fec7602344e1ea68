// A step that runs on hosts, coordinated: who takes part (active hosts whose `when` holds),
// rolling batches, for mutating steps the prepare → approval → lock gate before anything
// changes, then the step's action on every host of the batch in parallel (bounded by --forks),
// then failure handling per batch. What the step does on a host is its action's (actions/).
import { renderHostText } from '../plan/render-host.js';
import { verifyOf, type PlanStep } from '../plan/types.js';
import type { HostAction, PreparedChange } from './actions/action.js';
import { actionFor } from './actions/registry.js';
import { errorMessage, hostOf, runtimeFor, type Engine } from './context.js';
import type { ApprovalSource, HostStatus } from './events.js';
import { decideOnFailure } from './failure.js';
import { zeroCounts, type RunEnding, type StepFlow } from './flow.js';
import { runCheckOnHost } from './host-actions.js';
import { emitSkipped } from './host-exec.js';
import { lockHosts } from './lock.js';
import type { HostOutcome } from './strategy.js';
import { mapBounded } from './timing.js';

/** Resume bookkeeping for the step a resumed run starts at. */
export interface StepResume {
  /** Hosts that finished the step before: not run again. */
  done: Set<string>;
  /** Hosts where the step started but did not finish: re-checked through `verify` first. */
  unfinished: Set<string>;
}

export interface HostStepOptions {
  /** Restrict to these hosts (rollback steps, resume). */
  hosts?: string[] | undefined;
  /** Running as a rollback of this step. */
  rollbackOf?: string | undefined;
  /** Approved beforehand (rollback after a failure): no approval asked. */
  approvedBy?: ApprovalSource | undefined;
  resume?: StepResume | undefined;
  /** The step that follows in plan order (for step-end `next`), null at the end. */
  nextId?: string | null | undefined;
}

function confirmText(e: Engine, step: PlanStep): string | null {
  if (step.confirm === null) return null;
  try {
    return e.emitter.redactor.redact(renderHostText(e.plan, step, null, step.confirm, runtimeFor(e, null, step)));
  } catch {
    return e.emitter.redactor.redact(step.confirm);
  }
}

async function approve(
  e: Engine,
  step: PlanStep,
  hosts: string[],
  prepared: PreparedChange,
  batch: { index: number; count: number } | null,
  options: HostStepOptions,
): Promise<{ approved: string[] } | { skipped: true } | { ending: RunEnding }> {
  const base = { type: 'approval' as const, step: step.id, operator: e.strategy.operator, planHash: e.plan.planHash, batch: batch?.index };
  if (options.approvedBy) {
    e.emitter.emit({ ...base, decision: 'approved', source: options.approvedBy, hosts });
    return { approved: hosts };
  }
  const earlier = e.approvedEarlier.get(step.id);
  if (earlier && hosts.every((h) => earlier.has(h))) {
    e.emitter.emit({ ...base, decision: 'approved', source: 'resume', hosts });
    return { approved: hosts };
  }
  const answer = await e.strategy.approve({
    step,
    batch,
    hosts,
    commands: prepared.commands.filter((c) => hosts.includes(c.host)),
    diffs: prepared.diffs,
    confirm: confirmText(e, step),
    rollback: options.rollbackOf !== undefined,
    planHash: e.plan.planHash,
  });
  const approvedHosts = answer.decision === 'approved' ? (answer.hosts ?? hosts).filter((h) => hosts.includes(h)) : [];
  e.emitter.emit({
    ...base,
    operator: answer.operator ?? base.operator,
    ...(answer.comment ? { comment: answer.comment } : {}),
    decision: answer.decision,
    source: answer.source,
    hosts: answer.decision === 'approved' ? approvedHosts : hosts,
    commands: prepared.commands.filter((c) => hosts.includes(c.host)),
    diffs: Object.keys(prepared.diffs).length > 0 ? prepared.diffs : undefined,
  });
  if (answer.decision === 'approved') return { approved: approvedHosts };
  if (answer.decision === 'skipped') return { skipped: true };
  const why =
    answer.decision === 'timed-out'
      ? 'the approval timed out'
      : answer.decision === 'aborted'
        ? `${e.strategy.operator} aborted`
        : 'not approved (run with --yes to apply)';
  return { ending: { outcome: 'refused', step: step.id, message: `mutating step ${step.id} on ${hosts.join(', ')}: ${why}` } };
}

/** One host: the lease fence, resume's re-check of a change cut short, then the action. */
async function runOnHost(e: Engine, step: PlanStep, action: HostAction, name: string, options: HostStepOptions): Promise<HostOutcome> {
  const host = hostOf(e, name);
  if (step.mutates && e.leases) {
    // Fencing: a worker whose lease went to a newer holder (its run taken over after it stalled)
    // sends nothing more to the host, and stops: the run is no longer its to finish.
    const lost = await e.leases.check(name).catch((err: unknown) => `lease not checked: ${errorMessage(err)}`);
    if (lost !== null) {
      const error = `not run: ${lost}`;
      e.emitter.emit({ type: 'host-start', step: step.id, host: name, attempt: 1 });
      e.emitter.emit({
        type: 'host-end',
        step: step.id,
        host: name,
        status: 'failed',
        attempt: 1,
        exitCode: null,
        signal: null,
        durationMs: 0,
        error,
        final: true,
      });
      return { host: name, status: 'failed', exitCode: null, error, verification: false, interrupted: true };
    }
  }
  if (options.resume?.unfinished.has(name) && step.mutates) {
    const verify = verifyOf(step);
    if (verify) {
      const check = await runCheckOnHost(e, step, host, verify, 'verify', 'pass');
      if (check.status === 'ok') {
        e.state.changed = true;
        e.emitter.emit({
          type: 'warning',
          step: step.id,
          host: name,
          message: `step ${step.id} had started on ${name} without being recorded as finished; its verify check passes, so it is not run again`,
        });
        return { ...check, status: 'changed' };
      }
      e.emitter.emit({
        type: 'warning',
        step: step.id,
        host: name,
        message: `step ${step.id} had started on ${name} without being recorded as finished and its verify check fails: running it again`,
      });
    } else {
      e.emitter.emit({
        type: 'warning',
        step: step.id,
        host: name,
        message: `step ${step.id} had started on ${name} without being recorded as finished and has no verify check: running it again`,
      });
    }
  }
  return action.execute(e, step, host);
}

/** Who takes part: active hosts whose `when` holds; the others with the reason they do not. */
function selectParticipants(
  e: Engine,
  step: PlanStep,
  action: HostAction,
  targets: string[],
): { runnable: string[]; skipped: { host: string; reason: string }[] } {
  const runnable: string[] = [];
  const skipped: { host: string; reason: string }[] = [];
  for (const name of targets) {
    const dropped = e.state.dropped.get(name);
    if (dropped !== undefined) {
      skipped.push({ host: name, reason: dropped === 'unreachable' ? 'unreachable earlier in the run' : 'failed earlier in the run' });
      continue;
    }
    if (step.when !== null) {
      try {
        if (!e.conditions.evaluate(step.when, step, hostOf(e, name))) {
          skipped.push({ host: name, reason: `condition is false: ${step.whenText ?? step.when}` });
          continue;
        }
      } catch (err) {
        e.emitter.emit({ type: 'warning', step: step.id, host: name, message: `when: ${errorMessage(err)}; the step is skipped on this host` });
        skipped.push({ host: name, reason: `condition could not be evaluated: ${errorMessage(err)}` });
        continue;
      }
    }
    const excuse = action.excuse?.(e, step, name) ?? null;
    if (excuse !== null) {
      skipped.push({ host: name, reason: excuse });
      continue;
    }
    runnable.push(name);
  }
  return { runnable, skipped };
}

/** A step's bookkeeping across its batches, and its step-end. */
class StepRecord {
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

type Batch = { index: number; count: number } | null;

export async function runHostStep(e: Engine, step: PlanStep, options: HostStepOptions = {}): Promise<StepFlow> {
  const action = actionFor(step);
  if (action.on !== 'hosts') throw new Error(`step ${step.id}: ${step.kind} steps do not run on hosts`);
  const targets = (options.hosts ?? step.hosts).filter((h) => !options.resume?.done.has(h));
  const { runnable, skipped } = selectParticipants(e, step, action, targets);
  if (runnable.length === 0) {
    const reason = targets.length === 0 ? 'no host to run on' : [...new Set(skipped.map((s) => s.reason))].join('; ');
    e.emitter.emit({ type: 'step-skip', step: step.id, reason });
    return { kind: 'next' };
  }
  const inRun = new Set(runnable);
  const rolling = step.batches !== null && options.rollbackOf === undefined;
  const batches = rolling && step.batches ? step.batches.map((b) => b.filter((h) => inRun.has(h))).filter((b) => b.length > 0) : [runnable];
  const record = new StepRecord(e, step, options);
  for (const [i, batchHosts] of batches.entries()) {
    if (e.stop.aborted) return { kind: 'end', ending: { outcome: 'interrupted' } };
    const batch = rolling ? { index: i + 1, count: batches.length } : null;
    e.emitter.emit({
      type: 'step-start',
      step: step.id,
      name: step.name,
      kind: step.kind,
      mutates: step.mutates,
      hosts: batchHosts,
      batch: batch?.index,
      batches: batch?.count,
      rollbackOf: options.rollbackOf,
    });
    if (i === 0) for (const s of skipped) record.skip(s.host, s.reason);
    const gate = step.mutates ? await gateMutation(e, step, action, batchHosts, batch, options, record) : { toRun: batchHosts, early: [] };
    if ('flow' in gate) return gate.flow;
    const flow = await runBatch(e, step, action, gate.toRun, gate.early, batch, options, record);
    if (flow) return flow;
  }
  record.end(record.lossy ? 'partial' : record.ranAny ? 'ok' : 'skipped', options.nextId);
  return { kind: 'next' };
}

/**
 * Before a mutating batch changes anything: what it would do (hosts already as wanted are done),
 * the strategy's stop (probe) or approval, then the host locks.
 */
async function gateMutation(
  e: Engine,
  step: PlanStep,
  action: HostAction,
  hosts: string[],
  batch: Batch,
  options: HostStepOptions,
  record: StepRecord,
): Promise<{ toRun: string[]; early: HostOutcome[] } | { flow: StepFlow }> {
  const prepared = await action.prepare(e, step, hosts);
  for (const h of prepared.unchanged) record.skip(h, 'already as wanted: nothing to change', 'ok');
  for (const f of prepared.failedEarly) {
    e.emitter.emit({ type: 'host-start', step: step.id, host: f.host, attempt: 1 });
    e.emitter.emit({
      type: 'host-end',
      step: step.id,
      host: f.host,
      status: f.status,
      attempt: 1,
      exitCode: f.exitCode,
      signal: null,
      durationMs: 0,
      error: f.error,
      final: true,
    });
  }
  const early = prepared.failedEarly;
  if (prepared.wouldRun.length === 0) return { toRun: [], early };
  if (e.strategy.stopsBeforeMutation?.(step)) return { flow: { kind: 'probe-stop' } };
  const answer = await approve(e, step, prepared.wouldRun, prepared, batch, options);
  if ('ending' in answer) {
    record.end('skipped', null);
    return { flow: { kind: 'end', ending: answer.ending } };
  }
  const approved = 'skipped' in answer ? [] : answer.approved;
  for (const h of prepared.wouldRun.filter((x) => !approved.includes(x))) record.skip(h, 'skipped at approval');
  if (approved.length > 0) {
    const refused = await lockHosts(e, approved);
    if (refused.length > 0) {
      record.end('skipped', null);
      return { flow: { kind: 'end', ending: { outcome: 'refused', step: step.id, message: refused.map((r) => `${r.host}: ${r.detail}`).join('\n') } } };
    }
  }
  return { toRun: approved, early };
}

/** Runs the batch, then handles its losses (a retry re-runs only the hosts it names); a flow ends the step. */
async function runBatch(
  e: Engine,
  step: PlanStep,
  action: HostAction,
  toRun: string[],
  early: HostOutcome[],
  batch: Batch,
  options: HostStepOptions,
  record: StepRecord,
): Promise<StepFlow | null> {
  let outcomes = new Map<string, HostOutcome>(early.map((o) => [o.host, o]));
  let runNow = toRun;
  let retried = 0;
  for (;;) {
    const results = await mapBounded(runNow, e.forks, (name) => runOnHost(e, step, action, name, options), e.stop);
    if (runNow.length > 0) record.ranAny = true;
    results.forEach((r, k) => {
      if (r) outcomes.set(runNow[k] as string, r);
    });
    if (results.some((r) => r === undefined || r.interrupted) || e.stop.aborted) return { kind: 'end', ending: { outcome: 'interrupted' } };
    const all = [...outcomes.values()];
    const failures = all.filter((o) => o.status === 'failed' || o.status === 'timed-out');
    const unreachable = all.filter((o) => o.status === 'unreachable').map((o) => o.host);
    if (failures.length === 0 && unreachable.length === 0) break;
    if (options.rollbackOf !== undefined) {
      // A rollback that fails is reported; the run already ends failed for these hosts.
      for (const f of failures) e.state.failed.add(f.host);
      e.emitter.emit({
        type: 'warning',
        step: step.id,
        message: `rollback step ${step.id} failed on ${[...failures.map((f) => f.host), ...unreachable].join(', ')}`,
      });
      record.lossy = true;
      break;
    }
    const verdict = await decideOnFailure(
      e,
      step,
      { batch, ran: outcomes.size, failures, unreachable, unreachableInStep: record.unreachable + unreachable.length, retried },
      (eng, rb, o) => runHostStep(eng, rb, o),
    );
    if (verdict.kind === 'retry') {
      retried++;
      runNow = verdict.hosts.filter((h) => outcomes.has(h));
      outcomes = new Map([...outcomes].filter(([h]) => !runNow.includes(h)));
      continue;
    }
    record.unreachable += unreachable.length;
    record.lossy = true;
    record.tally(all);
    if (verdict.kind === 'end') {
      record.end('failed', null);
      return verdict;
    }
    if (verdict.kind === 'goto') {
      record.end('failed', verdict.target);
      return { kind: 'goto', target: verdict.target };
    }
    // The run goes on past these failures: hosts not already counted against the run stay in it,
    // but as failed evidence (their status is failed; the failed command gave no facts).
    for (const f of failures) if (!e.state.failed.has(f.host)) record.tolerated.add(f.host);
    outcomes = new Map();
    break;
  }
  record.tally(outcomes.values());
  return null;
}
