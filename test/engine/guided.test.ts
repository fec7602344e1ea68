// GuidedStrategy on its own: what each scripted operator answer becomes for the executor, the
// approval timeout, Ctrl-C, and the operator's attention (begin/end) around every interaction.
import { describe, expect, test } from 'vitest';
import { GuidedStrategy, PromptTimedOut, type AskContext } from '../../src/engine/guided.js';
import type { ApprovalRequest, CauseRequest, FailureRequest } from '../../src/engine/strategy.js';
import { EXIT, InterruptedError } from '../../src/errors.js';
import type { PlanStep } from '../../src/plan/types.js';
import { ScriptedPrompter, ctrlC, noAnswer, type ScriptedAnswers } from '../guide/scripted-prompter.js';
import { planOf } from './helpers.js';

const { plan } = planOf(`
name: t
summary: t
steps:
  - id: look
    name: look
    hosts: mps
    run: look
    capture:
      stuck: { regex: 'stuck=(\w+)', as: boolean, default: false }
  - id: diagnose
    name: decide
    decide:
      causes:
        - cause: stuck
          summary: an MP is stuck
          when: hosts("mps").exists(h, h.facts.stuck == true)
      default: none
  - id: fix
    name: fix
    hosts: mps
    run: fix-it
    mutates: true
    rollback:
      - id: undo
        name: undo
        hosts: mps
        run: undo-it
`);
const step = (id: string): PlanStep => plan.steps.find((s) => s.id === id) as PlanStep;

function approvalReq(hosts = ['mp1', 'mp2', 'mp3']): ApprovalRequest {
  return {
    step: step('fix'),
    batch: null,
    hosts,
    commands: hosts.map((h) => ({ host: h, command: 'fix-it' })),
    diffs: {},
    confirm: null,
    rollback: false,
    planHash: plan.planHash,
  };
}

function causeReq(): CauseRequest {
  return {
    step: step('diagnose'),
    cause: 'stuck',
    candidates: [
      { cause: 'stuck', summary: 'an MP is stuck', condition: 'hosts("mps").exists(h, h.facts.stuck == true)' },
      { cause: 'none', summary: null, condition: null },
    ],
    evidence: { condition: 'hosts("mps").exists(h, h.facts.stuck == true)', facts: { mp1: { stuck: true } } },
  };
}

function failureReq(canRollback = true): FailureRequest {
  return {
    step: step('fix'),
    batch: null,
    failed: [{ host: 'mp2', status: 'failed', exitCode: 1, verification: false }],
    unreachable: [],
    policy: { action: 'abort' },
    canRollback,
    withinThresholds: false,
    retried: 0,
  };
}

function guided(
  answers: ScriptedAnswers,
  options: { approvalTimeoutMs?: number; timeoutSignal?: (ms: number) => AbortSignal } = {},
): { strategy: GuidedStrategy; prompter: ScriptedPrompter } {
  const prompter = new ScriptedPrompter(answers);
  return { strategy: new GuidedStrategy({ operator: 'alice', prompter, ...options }), prompter };
}

describe('approvals', () => {
  test('run: every requested host, recorded as the operator', async () => {
    const { strategy, prompter } = guided({ approval: ['run'] });
    expect(strategy.mode).toBe('guided');
    expect(strategy.operator).toBe('alice');
    expect(await strategy.approve(approvalReq())).toEqual({ decision: 'approved', hosts: ['mp1', 'mp2', 'mp3'], source: 'operator' });
    expect(prompter.shown.map((s) => s.kind)).toEqual(['approval']);
    expect(prompter.asked[0]?.ctx.canPick).toBe(true);
    expect([prompter.begins, prompter.ends]).toEqual([1, 1]);
  });

  test('details, then some hosts only: only those (in plan order, unknown names dropped)', async () => {
    const { strategy, prompter } = guided({ approval: ['details', 'pick'], pickHosts: [['mp3', 'mp1', 'nope']] });
    expect(await strategy.approve(approvalReq())).toEqual({ decision: 'approved', hosts: ['mp1', 'mp3'], source: 'operator' });
    expect(prompter.shown.map((s) => s.kind)).toEqual(['approval', 'approval-details']);
    expect(prompter.left()).toEqual({});
  });

  test('no host picked: asked again (then skipped), never approved for nothing', async () => {
    const { strategy, prompter } = guided({ approval: ['pick', 'skip'], pickHosts: [[]] });
    expect(await strategy.approve(approvalReq())).toEqual({ decision: 'skipped', source: 'operator' });
    expect(prompter.asked.map((a) => a.kind)).toEqual(['approval', 'pickHosts', 'approval']);
  });

  test('one host: picking is not offered, and a stray pick asks again', async () => {
    const { strategy, prompter } = guided({ approval: ['pick', 'run'] });
    expect(await strategy.approve(approvalReq(['mp2']))).toEqual({ decision: 'approved', hosts: ['mp2'], source: 'operator' });
    expect(prompter.asked.map((a) => [a.kind, a.ctx.canPick])).toEqual([
      ['approval', false],
      ['approval', false],
    ]);
  });

  test('abort: the step is refused as aborted by the operator', async () => {
    const { strategy } = guided({ approval: ['abort'] });
    expect(await strategy.approve(approvalReq())).toEqual({ decision: 'aborted', source: 'operator' });
  });

  test('no answer before the timeout: timed-out (the step is refused, not run); the attention is released', async () => {
    const { strategy, prompter } = guided({ approval: ['details', noAnswer()] }, { approvalTimeoutMs: 300_000 });
    expect(await strategy.approve(approvalReq())).toEqual({ decision: 'timed-out', source: 'policy' });
    expect([prompter.begins, prompter.ends]).toEqual([1, 1]);
  });

  test('the timeout covers the whole interaction: one signal for every question of it, made with the timeout given', async () => {
    const made: number[] = [];
    const controller = new AbortController();
    const { strategy, prompter } = guided(
      { approval: ['details', 'pick'], pickHosts: [['mp1']] },
      {
        approvalTimeoutMs: 90_000,
        timeoutSignal: (ms) => {
          made.push(ms);
          return controller.signal;
        },
      },
    );
    await strategy.approve(approvalReq());
    expect(made).toEqual([90_000]);
    expect(prompter.asked.map((a) => a.ctx.signal)).toEqual([controller.signal, controller.signal, controller.signal]);
  });

  test('without --approval-timeout no question carries a signal', async () => {
    const { strategy, prompter } = guided({ approval: ['run'] });
    await strategy.approve(approvalReq());
    expect(prompter.asked[0]?.ctx.signal).toBeUndefined();
  });

  test('after one unanswered question (the cause), every later one is refused at once: nobody waits twice', async () => {
    const { strategy, prompter } = guided({ cause: [noAnswer()], approval: ['run'] }, { approvalTimeoutMs: 300_000 });
    expect(await strategy.confirmCause(causeReq())).toEqual({ cause: 'stuck', source: 'runbook' });
    expect(await strategy.approve(approvalReq())).toEqual({ decision: 'timed-out', source: 'policy' });
    expect(await strategy.onFailure(failureReq())).toEqual({ action: 'abort' });
    // Only the cause was asked; the approval was never put to the absent operator.
    expect(prompter.asked.map((a) => a.kind)).toEqual(['cause']);
  });

  test('"approve this and the remaining batches": offered before a batch that is not the last; later batches are not asked', async () => {
    const { strategy, prompter } = guided({ approval: ['run-remaining'] });
    const batch = (index: number, hosts: string[]): ApprovalRequest => ({ ...approvalReq(hosts), batch: { index, count: 3 } });
    expect(await strategy.approve(batch(1, ['mp1']))).toEqual({ decision: 'approved', hosts: ['mp1'], source: 'operator' });
    expect(await strategy.approve(batch(2, ['mp2']))).toEqual({ decision: 'approved', hosts: ['mp2'], source: 'operator' });
    expect(await strategy.approve(batch(3, ['mp3']))).toEqual({ decision: 'approved', hosts: ['mp3'], source: 'operator' });
    expect(prompter.asked.map((a) => [a.kind, (a.ctx as { canApproveRemaining?: boolean }).canApproveRemaining])).toEqual([['approval', true]]);
    // The last batch, or a step without batches, does not offer it.
    const last = guided({ approval: ['run', 'run'] });
    await last.strategy.approve(batch(3, ['mp3']));
    await last.strategy.approve(approvalReq());
    expect(last.prompter.asked.map((a) => (a.ctx as { canApproveRemaining?: boolean }).canApproveRemaining)).toEqual([false, false]);
  });

  test('a real timer: a question left unanswered is timed out by the signal', async () => {
    const waitForSignal = (ctx: AskContext): Promise<never> =>
      new Promise((_resolve, reject) => {
        ctx.signal?.addEventListener('abort', () => reject(new PromptTimedOut('timeout')));
      });
    const { strategy } = guided({ approval: [waitForSignal] }, { approvalTimeoutMs: 30 });
    const started = Date.now();
    expect(await strategy.approve(approvalReq())).toMatchObject({ decision: 'timed-out' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  test('Ctrl-C at the prompt interrupts the run (exit 130), naming the operator and the step; attention released', async () => {
    const { strategy, prompter } = guided({ approval: [ctrlC()] });
    const err = await strategy.approve(approvalReq()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    expect((err as InterruptedError).exitCode).toBe(EXIT.interrupted);
    expect((err as Error).message).toBe('alice interrupted the run at the approval of step fix');
    expect([prompter.begins, prompter.ends]).toEqual([1, 1]);
  });

  test('any other error from the prompter is not swallowed', async () => {
    const { strategy, prompter } = guided({ approval: [new Error('terminal exploded')] });
    await expect(strategy.approve(approvalReq())).rejects.toThrow('terminal exploded');
    expect(prompter.ends).toBe(1);
  });
});

describe('decisions', () => {
  test('accept: the diagnosed cause, settled by the operator (journaled with their name)', async () => {
    const { strategy, prompter } = guided({ cause: ['accept'] });
    expect(await strategy.confirmCause(causeReq())).toEqual({ cause: 'stuck', source: 'operator' });
    expect(prompter.shown.map((s) => s.kind)).toEqual(['cause']);
  });

  test('details, then another candidate: the override', async () => {
    const { strategy, prompter } = guided({ cause: ['details', 'other'], pickCause: ['none'] });
    expect(await strategy.confirmCause(causeReq())).toEqual({ cause: 'none', source: 'operator' });
    expect(prompter.shown.map((s) => s.kind)).toEqual(['cause', 'cause-details']);
  });

  test('a cause the step cannot name is not taken: asked again', async () => {
    const { strategy } = guided({ cause: ['other', 'accept'], pickCause: ['made-up'] });
    expect(await strategy.confirmCause(causeReq())).toEqual({ cause: 'stuck', source: 'operator' });
  });

  test('no answer in time: the diagnosed cause stands, and nobody is said to have accepted it', async () => {
    const { strategy } = guided({ cause: [noAnswer()] }, { approvalTimeoutMs: 1000 });
    expect(await strategy.confirmCause(causeReq())).toEqual({ cause: 'stuck', source: 'runbook' });
  });

  test('Ctrl-C at the decision interrupts the run', async () => {
    const { strategy } = guided({ cause: ['details', ctrlC()] });
    await expect(strategy.confirmCause(causeReq())).rejects.toThrow(/alice interrupted the run at the decision of step diagnose/);
  });
});

describe('failures', () => {
  test('show the output, then retry', async () => {
    const { strategy, prompter } = guided({ failure: ['output', 'retry'] });
    expect(await strategy.onFailure(failureReq())).toEqual({ action: 'retry' });
    expect(prompter.shown.map((s) => s.kind)).toEqual(['failure', 'failure-output']);
  });

  test.each(['skip', 'abort', 'policy', 'rollback'] as const)('%s', async (choice) => {
    const { strategy } = guided({ failure: [choice] });
    expect(await strategy.onFailure(failureReq())).toEqual({ action: choice });
  });

  test('rollback is not taken when the step has none: asked again', async () => {
    const { strategy } = guided({ failure: ['rollback', 'abort'] });
    expect(await strategy.onFailure(failureReq(false))).toEqual({ action: 'abort' });
  });

  test('no answer in time: abort, without rollback (nothing mutates without an answer)', async () => {
    const { strategy } = guided({ failure: [noAnswer()] }, { approvalTimeoutMs: 1000 });
    expect(await strategy.onFailure(failureReq())).toEqual({ action: 'abort' });
  });

  test('Ctrl-C at the failure prompt interrupts the run', async () => {
    const { strategy } = guided({ failure: [ctrlC()] });
    await expect(strategy.onFailure(failureReq())).rejects.toBeInstanceOf(InterruptedError);
  });
});
