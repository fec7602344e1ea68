// What happens when a step fails on some hosts: the strategy is asked (guided runs ask the
// operator; unattended runs follow the runbook), rollback steps run on the hosts where the step
// or its verification failed, thresholds decide whether a rolling rollout goes on, and
// on_failure decides what the run does. Unreachable hosts are counted apart from failed ones.
import type { PlanStep } from '../plan/types.js';
import type { Engine } from './context.js';
import type { ApprovalSource } from './events.js';
import type { RunEnding, StepFlow } from './flow.js';
import type { HostOutcome } from './strategy.js';

/** Runs a step restricted to hosts (used for rollback steps). */
export type StepRunner = (e: Engine, step: PlanStep, options: { hosts: string[]; rollbackOf: string; approvedBy: ApprovalSource }) => Promise<StepFlow>;

export type FailureVerdict =
  | { kind: 'retry'; hosts: string[] }
  /** Go on: next batch, next step. */
  | { kind: 'go-on' }
  /** Stop the rollout, jump to a step. */
  | { kind: 'goto'; target: string }
  | { kind: 'end'; ending: RunEnding };

export interface BatchLosses {
  batch: { index: number; count: number } | null;
  /** Hosts the batch ran on. */
  ran: number;
  failures: HostOutcome[];
  unreachable: string[];
  /** Unreachable hosts so far in this step, this batch included. */
  unreachableInStep: number;
  retried: number;
}

/**
 * max_fail_percentage: the share of the batch that may fail (default 0: none); max_unavailable:
 * how many hosts of the step may be unreachable (default 0). Exceeding either stops the rollout.
 */
export function withinThresholds(step: PlanStep, losses: Pick<BatchLosses, 'ran' | 'failures' | 'unreachableInStep'>): boolean {
  const failedPct = losses.ran === 0 ? 0 : (losses.failures.length * 100) / losses.ran;
  return failedPct <= (step.maxFailPercentage ?? 0) && losses.unreachableInStep <= (step.maxUnavailable ?? 0);
}

function describeLosses(step: PlanStep, losses: BatchLosses): string {
  const parts: string[] = [];
  if (losses.failures.length > 0) parts.push(`failed on ${losses.failures.map((f) => `${f.host} (${f.error ?? f.status})`).join(', ')}`);
  if (losses.unreachable.length > 0) parts.push(`unreachable: ${losses.unreachable.join(', ')}`);
  const batch = losses.batch ? ` in batch ${losses.batch.index}/${losses.batch.count}` : '';
  return `step ${step.id}${batch} ${parts.join('; ')}`;
}

function endRun(e: Engine, step: PlanStep, losses: BatchLosses, how: string): FailureVerdict {
  for (const f of losses.failures) e.state.failed.add(f.host);
  return {
    kind: 'end',
    ending: { outcome: losses.failures.length > 0 ? 'failed' : 'unreachable', step: step.id, message: `${describeLosses(step, losses)}${how}` },
  };
}

export async function decideOnFailure(e: Engine, step: PlanStep, losses: BatchLosses, runStep: StepRunner): Promise<FailureVerdict> {
  const failedHosts = losses.failures.map((f) => f.host);
  const canRollback = step.mutates && step.rollback.length > 0 && failedHosts.length > 0;
  const within = withinThresholds(step, losses);
  const answer = await e.strategy.onFailure({
    step,
    batch: losses.batch,
    failed: losses.failures.map((f) => ({
      host: f.host,
      status: f.status,
      exitCode: f.exitCode,
      error: f.error,
      outputs: f.outputs,
      verification: f.verification,
    })),
    unreachable: losses.unreachable,
    policy: step.onFailure,
    canRollback,
    withinThresholds: within,
    retried: losses.retried,
  });
  switch (answer.action) {
    case 'retry': {
      const hosts = answer.hosts ?? [...failedHosts, ...losses.unreachable];
      // An operator may try an unreachable host again: it rejoins the run for this attempt.
      for (const h of hosts) if (e.state.dropped.get(h) === 'unreachable') e.state.dropped.delete(h);
      return { kind: 'retry', hosts };
    }
    case 'skip':
      e.emitter.emit({ type: 'warning', step: step.id, message: `${describeLosses(step, losses)}; skipped at ${e.strategy.operator}'s request, no rollback` });
      return { kind: 'go-on' };
    case 'rollback':
      if (canRollback) await rollbackHosts(e, step, failedHosts, 'operator', runStep);
      return endRun(e, step, losses, '; rolled back and stopped');
    case 'abort':
      return endRun(e, step, losses, '; aborted');
    case 'policy':
      break;
  }
  if (canRollback) await rollbackHosts(e, step, failedHosts, 'policy', runStep);
  if (step.onFailure.action === 'continue') {
    e.emitter.emit({ type: 'warning', step: step.id, message: `${describeLosses(step, losses)}; on_failure: continue` });
    return { kind: 'go-on' };
  }
  if (within) {
    // Tolerated by the thresholds: the hosts leave the rollout, the rest goes on; they still count.
    for (const h of failedHosts) {
      e.state.failed.add(h);
      e.state.drop(h, 'failed');
    }
    e.emitter.emit({
      type: 'warning',
      step: step.id,
      message: `${describeLosses(step, losses)}; within max_fail_percentage/max_unavailable, the rollout goes on without them`,
    });
    return { kind: 'go-on' };
  }
  if (step.onFailure.action === 'goto') {
    e.emitter.emit({ type: 'warning', step: step.id, message: `${describeLosses(step, losses)}; on_failure: goto ${step.onFailure.step}` });
    return { kind: 'goto', target: step.onFailure.step };
  }
  return endRun(e, step, losses, '');
}

/**
 * Runs the step's rollback steps, in order, on the hosts where it (or its verification) failed;
 * a rollback step with `rollback_hosts: all` on every host it targets that is still in the run
 * (the change it undoes was made on other hosts: MPs behind Routers that fail their check).
 */
export async function rollbackHosts(e: Engine, step: PlanStep, hosts: string[], source: ApprovalSource, runStep: StepRunner): Promise<void> {
  for (const host of hosts) e.emitter.emit({ type: 'rollback', step: step.id, host, reason: `step ${step.id} failed on ${host}` });
  for (const rb of step.rollback) {
    const targets =
      rb.rollbackHosts === 'all' && rb.hostPattern !== null
        ? rb.hosts.filter((h) => hosts.includes(h) || e.state.isActive(h))
        : rb.hostPattern === null
          ? hosts
          : hosts.filter((h) => rb.hosts.includes(h));
    if (targets.length === 0) continue;
    await runStep(e, rb, { hosts: targets, rollbackOf: step.id, approvedBy: source });
    if (e.stop.aborted) return;
  }
}
