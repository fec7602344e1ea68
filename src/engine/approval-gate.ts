// The gate before a mutating batch changes anything: what the step would do (hosts already as
// wanted are done, hosts where finding out failed end failed), the strategy's stop (probe) or
// approval (recorded with its source, operator and comment), then the host locks.
import { renderHostText } from '../plan/render-host.js';
import type { PlanStep } from '../plan/types.js';
import type { HostAction, PreparedChange } from './actions/action.js';
import { runtimeFor, type Engine } from './context.js';
import type { RunEnding, StepFlow } from './flow.js';
import { failedBeforeRunning } from './host-exec.js';
import type { HostStepOptions } from './host-step.js';
import { lockHosts } from './lock.js';
import type { StepRecord } from './step-record.js';
import type { HostOutcome } from './strategy.js';

export type Batch = { index: number; count: number } | null;

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

/**
 * Before a mutating batch changes anything: what it would do (hosts already as wanted are done),
 * the strategy's stop (probe) or approval, then the host locks.
 */
export async function gateMutation(
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
  for (const f of prepared.failedEarly) failedBeforeRunning(e, step, f.host, f.error, { announce: true, status: f.status, exitCode: f.exitCode });
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
