// A step that runs on hosts, coordinated: who takes part (active hosts whose `when` holds),
// rolling batches, for mutating steps the gate before anything changes (approval-gate.ts), then
// the step's action on every host of the batch in parallel (bounded by --forks), then failure
// handling per batch. What the step does on a host is its action's (actions/).
import { verifyOf, type PlanStep } from '../plan/types.js';
import type { HostAction } from './actions/action.js';
import { actionFor } from './actions/registry.js';
import { gateMutation, type Batch } from './approval-gate.js';
import { runCheckOnHost } from './checks.js';
import { errorMessage, hostOf, type Engine } from './context.js';
import type { ApprovalSource } from './events.js';
import { decideOnFailure } from './failure.js';
import type { StepFlow } from './flow.js';
import { failedBeforeRunning } from './host-exec.js';
import { StepRecord } from './step-record.js';
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

/** One host: the lease fence, resume's re-check of a change cut short, then the action. */
async function runOnHost(e: Engine, step: PlanStep, action: HostAction, name: string, options: HostStepOptions): Promise<HostOutcome> {
  const host = hostOf(e, name);
  if (step.mutates && e.leases) {
    // Fencing: a worker whose lease went to a newer holder (its run taken over after it stalled)
    // sends nothing more to the host, and stops: the run is no longer its to finish.
    const lost = await e.leases.check(name).catch((err: unknown) => `lease not checked: ${errorMessage(err)}`);
    if (lost !== null) return { ...failedBeforeRunning(e, step, name, `not run: ${lost}`, { announce: true }), interrupted: true };
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
