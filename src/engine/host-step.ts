// A step that runs on hosts: who takes part (active hosts whose `when` holds), rolling batches,
// and for mutating steps the preview → approval → lock sequence before anything changes; then
// every host of the batch in parallel (bounded by --forks), then failure handling per batch.
import { renderHostText } from '../plan/render-host.js';
import type { PlanStep, PlannedCommand } from '../plan/types.js';
import { errorMessage, hostOf, runtimeFor, type Engine } from './context.js';
import type { ApprovalSource, HostStatus } from './events.js';
import { decideOnFailure } from './failure.js';
import { fetchOnHost } from './fetch-action.js';
import type { RunEnding, StepFlow } from './flow.js';
import { pauseOnHost, renderForHost, runCheckOnHost, runShellOnHost } from './host-actions.js';
import { emitSkipped } from './host-exec.js';
import { lockHosts } from './lock.js';
import { applyProperties, isPreview, previewProperties } from './properties-action.js';
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

export function zeroCounts(): Record<HostStatus, number> {
  return { ok: 0, changed: 0, failed: 0, 'timed-out': 0, unreachable: 0, skipped: 0 };
}

interface Prepared {
  wouldRun: string[];
  unchanged: string[];
  failedEarly: HostOutcome[];
  commands: PlannedCommand[];
  diffs: Record<string, string>;
}

/** Renders what a mutating step would do on each host; reads properties files for real diffs. */
export async function prepareMutation(e: Engine, step: PlanStep, hosts: string[]): Promise<Prepared> {
  const redact = (s: string): string => e.emitter.redactor.redact(s);
  const prepared: Prepared = { wouldRun: [], unchanged: [], failedEarly: [], commands: [], diffs: {} };
  if (step.templates.properties) {
    const previews = await mapBounded(hosts, e.forks, (name) => previewProperties(e, step, hostOf(e, name)));
    hosts.forEach((name, i) => {
      const p = previews[i];
      if (p === undefined) return;
      if (!isPreview(p)) prepared.failedEarly.push(p);
      else if (!p.changed) prepared.unchanged.push(name);
      else {
        prepared.wouldRun.push(name);
        prepared.diffs[name] = redact(p.diff);
        prepared.commands.push({ host: name, command: redact(`edit ${p.file}`) });
      }
    });
    return prepared;
  }
  for (const name of hosts) {
    prepared.wouldRun.push(name);
    const host = hostOf(e, name);
    const templates = [step.templates.run, step.templates.verify ? step.templates.verify.run : undefined];
    templates.forEach((t, i) => {
      if (t === undefined) return;
      let command: string;
      try {
        command = renderForHost(e, step, host, t).command;
      } catch (err) {
        command = `⟨cannot render: ${errorMessage(err)}⟩`;
      }
      prepared.commands.push({ host: name, command: redact(i === 1 ? `verify: ${command}` : command) });
    });
  }
  return prepared;
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
  prepared: Prepared,
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
  const why = answer.decision === 'timed-out' ? 'the approval timed out' : answer.decision === 'aborted' ? `${e.strategy.operator} aborted` : 'not approved (run with --yes to apply)';
  return { ending: { outcome: 'refused', step: step.id, message: `mutating step ${step.id} on ${hosts.join(', ')}: ${why}` } };
}

async function runOnHost(e: Engine, step: PlanStep, name: string, options: HostStepOptions): Promise<HostOutcome> {
  const host = hostOf(e, name);
  if (step.mutates && e.leases) {
    // Fencing: a worker whose lease went to a newer holder (its run taken over after it stalled)
    // sends nothing more to the host, and stops: the run is no longer its to finish.
    const lost = await e.leases.check(name).catch((err: unknown) => `lease not checked: ${errorMessage(err)}`);
    if (lost !== null) {
      const error = `not run: ${lost}`;
      e.emitter.emit({ type: 'host-start', step: step.id, host: name, attempt: 1 });
      e.emitter.emit({ type: 'host-end', step: step.id, host: name, status: 'failed', attempt: 1, exitCode: null, signal: null, durationMs: 0, error, final: true });
      return { host: name, status: 'failed', exitCode: null, error, verification: false, interrupted: true };
    }
  }
  if (options.resume?.unfinished.has(name) && step.mutates) {
    const verify = step.templates.verify;
    if (verify) {
      const check = await runCheckOnHost(e, step, host, verify, 'verify', 'pass');
      if (check.status === 'ok') {
        e.state.changed = true;
        e.emitter.emit({ type: 'warning', step: step.id, host: name, message: `step ${step.id} had started on ${name} without being recorded as finished; its verify check passes, so it is not run again` });
        return { ...check, status: 'changed' };
      }
      e.emitter.emit({ type: 'warning', step: step.id, host: name, message: `step ${step.id} had started on ${name} without being recorded as finished and its verify check fails: running it again` });
    } else {
      e.emitter.emit({ type: 'warning', step: step.id, host: name, message: `step ${step.id} had started on ${name} without being recorded as finished and has no verify check: running it again` });
    }
  }
  switch (step.kind) {
    case 'run':
      return runShellOnHost(e, step, host);
    case 'properties':
      return applyProperties(e, step, host);
    case 'fetch':
      return fetchOnHost(e, step, host);
    case 'wait':
      return runCheckOnHost(e, step, host, step.templates.wait as NonNullable<typeof step.templates.wait>);
    case 'pause':
      return pauseOnHost(e, step, host);
    default:
      throw new Error(`step ${step.id}: ${step.kind} steps do not run on hosts`);
  }
}

/** Who takes part: active hosts whose `when` holds; the others with the reason they do not. */
function selectParticipants(e: Engine, step: PlanStep, targets: string[]): { runnable: string[]; skipped: { host: string; reason: string }[] } {
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
    // A check that waits for a host to recover (a verify after a fix) has nothing to wait for
    // where the operator declined that host's fix: polling it would only hold the run for the
    // whole retry budget (≈65 s on the 502 runbook's Routers). The host stays not-remediated.
    const declined = step.kind === 'wait' ? e.state.steps.declinedFor(name) : [];
    if (declined.length > 0) {
      skipped.push({ host: name, reason: `not waited on: its fix was declined (${declined.join(', ')})` });
      continue;
    }
    runnable.push(name);
  }
  return { runnable, skipped };
}

export async function runHostStep(e: Engine, step: PlanStep, options: HostStepOptions = {}): Promise<StepFlow> {
  const started = e.clock.now();
  const counts = zeroCounts();
  const targets = (options.hosts ?? step.hosts).filter((h) => !options.resume?.done.has(h));
  const { runnable, skipped } = selectParticipants(e, step, targets);
  if (runnable.length === 0) {
    const reason = targets.length === 0 ? 'no host to run on' : [...new Set(skipped.map((s) => s.reason))].join('; ');
    e.emitter.emit({ type: 'step-skip', step: step.id, reason });
    return { kind: 'next' };
  }
  const inRun = new Set(runnable);
  const batches = step.batches && options.rollbackOf === undefined ? step.batches.map((b) => b.filter((h) => inRun.has(h))).filter((b) => b.length > 0) : [runnable];
  const rolling = step.batches !== null && options.rollbackOf === undefined;
  let unreachableInStep = 0;
  let lossy = false;
  const tolerated = new Set<string>();
  let ranAny = false;
  const droppedBefore = new Set(e.state.dropped.keys());
  const failedBefore = new Set(e.state.failed);
  const stepEnd = (status: 'ok' | 'failed' | 'skipped' | 'partial', next: string | null | undefined): void => {
    // What this step changed in the run's membership, so a resume can rebuild it from the journal.
    const left = Object.fromEntries([...e.state.dropped].filter(([h]) => !droppedBefore.has(h)));
    const failedHosts = [...e.state.failed].filter((h) => !failedBefore.has(h));
    e.emitter.emit({
      type: 'step-end',
      step: step.id,
      status,
      durationMs: Math.round(e.clock.now() - started),
      counts,
      next: options.rollbackOf === undefined ? next : undefined,
      left: Object.keys(left).length > 0 ? left : undefined,
      failedHosts: failedHosts.length > 0 ? failedHosts : undefined,
      tolerated: tolerated.size > 0 ? [...tolerated] : undefined,
    });
  };

  for (const [i, batchHosts] of batches.entries()) {
    if (e.stop.aborted) return { kind: 'end', ending: { outcome: 'interrupted' } };
    const batch = rolling ? { index: i + 1, count: batches.length } : null;
    e.emitter.emit({ type: 'step-start', step: step.id, name: step.name, kind: step.kind, mutates: step.mutates, hosts: batchHosts, batch: batch?.index, batches: batch?.count, rollbackOf: options.rollbackOf });
    if (i === 0) {
      for (const s of skipped) {
        emitSkipped(e, step, s.host, s.reason);
        counts.skipped++;
      }
    }
    let toRun = batchHosts;
    let early: HostOutcome[] = [];
    if (step.mutates) {
      const prepared = await prepareMutation(e, step, batchHosts);
      for (const h of prepared.unchanged) {
        emitSkipped(e, step, h, 'already as wanted: nothing to change', 'ok');
        counts.ok++;
      }
      for (const f of prepared.failedEarly) {
        e.emitter.emit({ type: 'host-start', step: step.id, host: f.host, attempt: 1 });
        e.emitter.emit({ type: 'host-end', step: step.id, host: f.host, status: f.status, attempt: 1, exitCode: f.exitCode, signal: null, durationMs: 0, error: f.error, final: true });
      }
      early = prepared.failedEarly;
      toRun = prepared.wouldRun;
      if (toRun.length > 0) {
        if (e.strategy.mode === 'probe') return { kind: 'probe-stop' };
        const answer = await approve(e, step, toRun, prepared, batch, options);
        if ('ending' in answer) {
          stepEnd('skipped', null);
          return { kind: 'end', ending: answer.ending };
        }
        const approved = 'skipped' in answer ? [] : answer.approved;
        for (const h of toRun.filter((x) => !approved.includes(x))) {
          emitSkipped(e, step, h, 'skipped at approval');
          counts.skipped++;
        }
        toRun = approved;
        if (toRun.length > 0) {
          const refused = await lockHosts(e, toRun);
          if (refused.length > 0) {
            stepEnd('skipped', null);
            return { kind: 'end', ending: { outcome: 'refused', step: step.id, message: refused.map((r) => `${r.host}: ${r.detail}`).join('\n') } };
          }
        }
      }
    }
    // Run the batch, then handle its losses; a retry re-runs only the hosts it names.
    let outcomes = new Map<string, HostOutcome>(early.map((o) => [o.host, o]));
    let runNow = toRun;
    let retried = 0;
    for (;;) {
      const results = await mapBounded(runNow, e.forks, (name) => runOnHost(e, step, name, options), e.stop);
      if (runNow.length > 0) ranAny = true;
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
        e.emitter.emit({ type: 'warning', step: step.id, message: `rollback step ${step.id} failed on ${[...failures.map((f) => f.host), ...unreachable].join(', ')}` });
        lossy = true;
        break;
      }
      const verdict = await decideOnFailure(
        e,
        step,
        { batch, ran: outcomes.size, failures, unreachable, unreachableInStep: unreachableInStep + unreachable.length, retried },
        (eng, rb, o) => runHostStep(eng, rb, o),
      );
      if (verdict.kind === 'retry') {
        retried++;
        runNow = verdict.hosts.filter((h) => outcomes.has(h));
        outcomes = new Map([...outcomes].filter(([h]) => !runNow.includes(h)));
        continue;
      }
      unreachableInStep += unreachable.length;
      lossy = true;
      tally(counts, all);
      if (verdict.kind === 'end') {
        stepEnd('failed', null);
        return verdict;
      }
      if (verdict.kind === 'goto') {
        stepEnd('failed', verdict.target);
        return { kind: 'goto', target: verdict.target };
      }
      // The run goes on past these failures: hosts not already counted against the run stay in it,
      // but as failed evidence (their status is failed; the failed command gave no facts).
      for (const f of failures) if (!e.state.failed.has(f.host)) tolerated.add(f.host);
      outcomes = new Map();
      break;
    }
    tally(counts, [...outcomes.values()]);
  }
  stepEnd(lossy ? 'partial' : ranAny ? 'ok' : 'skipped', options.nextId);
  return { kind: 'next' };
}

function tally(counts: Record<HostStatus, number>, outcomes: HostOutcome[]): void {
  for (const o of outcomes) counts[o.status]++;
}
