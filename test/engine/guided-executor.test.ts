// GuidedStrategy driving the real executor (fake transports): what the journal records for each
// operator answer (decision overrides, approvals with operator/source/plan hash, timeouts,
// aborts, Ctrl-C) and what actually ran on the hosts.
import { describe, expect, test } from 'vitest';
import { GuidedStrategy } from '../../src/engine/guided.js';
import { ScriptedPrompter, ctrlC, noAnswer, type ScriptedAnswers } from '../guide/scripted-prompter.js';
import { FakeFleet, planOf, runPlan } from './helpers.js';

const runbook = `
name: t
summary: guided
steps:
  - id: look
    name: look at the MPs
    hosts: mps
    run: look
    capture:
      stuck: { regex: 'stuck=(\\w+)', as: boolean, default: false }
  - id: diagnose
    name: name the cause
    decide:
      causes:
        - cause: stuck
          summary: an MP is stuck
          when: hosts("mps").exists(h, h.facts.stuck)
      default: none
  - id: restart
    name: restart the stuck MPs
    hosts: mps
    when: cause == "stuck" && facts.stuck
    confirm: Restart the stuck MPs?
    run: restart-mp
    mutates: true
  - id: reload
    name: reload the routers
    hosts: routers
    when: cause == "stuck"
    run: reload-router
    mutates: true
  - id: fixed
    name: fixed
    when: cause == "stuck"
    outcome: { status: resolved, message: restarted }
  - id: other
    name: something else
    when: cause == "none"
    run: note-none
    hosts: r1
    mutates: true
  - id: nothing
    name: nothing
    outcome: { status: nothing-to-do, message: none }
`;

/** mp2 and mp3 are stuck. */
function fleet(): FakeFleet {
  return new FakeFleet().on('look', (c) => ({ stdout: c.host === 'mp2' || c.host === 'mp3' ? 'stuck=true' : 'stuck=false' }));
}

async function guidedRun(answers: ScriptedAnswers, f = fleet(), approvalTimeoutMs?: number) {
  const { plan, inventory } = planOf(runbook);
  const prompter = new ScriptedPrompter(answers);
  const ran = await runPlan(plan, inventory, f, { strategy: new GuidedStrategy({ operator: 'alice', prompter, approvalTimeoutMs }) });
  return { ran, prompter, fleet: f, plan };
}

describe('guided runs through the executor', () => {
  test('accept the cause, run a fix on one of two hosts only: recorded with operator, source and plan hash', async () => {
    const { ran, fleet: f, plan, prompter } = await guidedRun({ cause: ['accept'], approval: ['pick', 'run'], pickHosts: [['mp3']] });
    expect(f.commands().filter((c) => c === 'restart-mp')).toHaveLength(1);
    expect(f.commands('mp3')).toContain('restart-mp');
    expect(f.commands('mp2')).not.toContain('restart-mp');
    expect(f.commands('r1')).toEqual(['reload-router']);
    const [restart, reload] = ran.of('approval');
    expect(restart).toMatchObject({ step: 'restart', decision: 'approved', source: 'operator', operator: 'alice', planHash: plan.planHash, hosts: ['mp3'] });
    expect(reload).toMatchObject({ step: 'reload', decision: 'approved', source: 'operator', hosts: ['r1'] });
    expect(ran.of('decision')[0]).toMatchObject({ cause: 'stuck', override: undefined });
    expect(ran.of('run-start')[0]).toMatchObject({ mode: 'guided', operator: 'alice' });
    expect(ran.of('host-end').find((e) => e.step === 'restart' && e.host === 'mp2')).toMatchObject({ status: 'skipped', reason: 'skipped at approval' });
    // mp2, whose restart the operator did not pick, may still be stuck: not remediated, no all-clear.
    expect(ran.result).toMatchObject({ outcome: 'escalated', exitCode: 3, hosts: { mp2: 'not-remediated', mp3: 'ok', r1: 'ok' } });
    expect(ran.result.message).toMatch(/^restarted; but not remediated: mp2 \(restart\)/);
    // The approval showed what was asked: the two stuck MPs, with the confirm text.
    const shown = prompter.shown.find((s) => s.kind === 'approval');
    expect(shown?.kind === 'approval' && [shown.req.hosts, shown.req.confirm]).toEqual([['mp2', 'mp3'], 'Restart the stuck MPs?']);
  });

  test('another cause: the decision records the override and the run follows the chosen branch', async () => {
    const { ran, fleet: f } = await guidedRun({ cause: ['other'], pickCause: ['none'], approval: ['run'] });
    expect(ran.of('decision')[0]).toMatchObject({
      step: 'diagnose',
      cause: 'none',
      override: { from: 'stuck', operator: 'alice' },
      candidates: ['stuck', 'none'],
    });
    expect(f.commands().filter((c) => /restart|reload/.test(c))).toEqual([]);
    expect(f.commands('r1')).toEqual(['note-none']);
    expect(ran.result).toMatchObject({ cause: 'none' });
  });

  test('skip a step: nothing runs for it, the run goes on', async () => {
    const { ran, fleet: f } = await guidedRun({ cause: ['accept'], approval: ['skip', 'run'] });
    expect(f.commands().filter((c) => c === 'restart-mp')).toEqual([]);
    expect(f.commands('r1')).toEqual(['reload-router']);
    expect(ran.of('approval').map((a) => [a.step, a.decision, a.source])).toEqual([
      ['restart', 'skipped', 'operator'],
      ['reload', 'approved', 'operator'],
    ]);
  });

  test("a failure retried at the operator's request runs again on the failed host only, then passes", async () => {
    const f = fleet().on('restart-mp', { exitCode: 1, stderr: 'not ready' }, { host: 'mp2', times: 1 });
    const { ran, prompter } = await guidedRun({ cause: ['accept'], approval: ['run', 'run'], failure: ['output', 'retry'] }, f);
    expect(f.commands('mp2').filter((c) => c === 'restart-mp')).toHaveLength(2);
    expect(f.commands('mp3').filter((c) => c === 'restart-mp')).toHaveLength(1);
    const failure = prompter.shown.find((s) => s.kind === 'failure');
    expect(failure?.kind === 'failure' && failure.req.failed.map((x) => [x.host, x.exitCode])).toEqual([['mp2', 1]]);
    expect(
      ran
        .of('host-end')
        .filter((e) => e.step === 'restart' && e.host === 'mp2')
        .map((e) => [e.attempt, e.status]),
    ).toEqual([
      [1, 'failed'],
      [1, 'changed'],
    ]);
    expect(ran.result).toMatchObject({ outcome: 'resolved', exitCode: 0 });
  });

  test('abort at an approval: refused (exit 5), recorded as aborted by the operator, nothing more runs', async () => {
    const { ran, fleet: f } = await guidedRun({ cause: ['accept'], approval: ['run', 'abort'] });
    expect(f.commands().filter((c) => c === 'restart-mp')).toHaveLength(2);
    expect(f.commands('r1')).toEqual([]);
    expect(ran.of('approval').at(-1)).toMatchObject({ step: 'reload', decision: 'aborted', source: 'operator', operator: 'alice' });
    expect(ran.result).toMatchObject({ outcome: 'refused', exitCode: 5 });
    expect(ran.result.message).toMatch(/alice aborted/);
  });

  test('no answer within the approval timeout: the step is refused (timed-out), not run', async () => {
    const { ran, fleet: f, prompter } = await guidedRun({ cause: ['accept'], approval: [noAnswer()] }, fleet(), 60_000);
    expect(f.commands().filter((c) => c === 'restart-mp')).toEqual([]);
    expect(ran.of('approval')[0]).toMatchObject({ step: 'restart', decision: 'timed-out', source: 'policy', hosts: ['mp2', 'mp3'] });
    expect(ran.result).toMatchObject({ outcome: 'refused', exitCode: 5 });
    expect(ran.result.message).toMatch(/timed out/);
    expect(prompter.asked.every((a) => a.ctx.signal instanceof AbortSignal)).toBe(true);
  });

  test('Ctrl-C at a prompt: the run ends interrupted (exit 130) with a run-end, nothing mutated', async () => {
    const { ran, fleet: f } = await guidedRun({ cause: ['accept'], approval: [ctrlC()] });
    expect(f.commands().filter((c) => /restart|reload/.test(c))).toEqual([]);
    expect(ran.result).toMatchObject({ outcome: 'interrupted', exitCode: 130 });
    expect(ran.of('run-end')[0]).toMatchObject({ outcome: 'interrupted', message: 'alice interrupted the run at the approval of step restart' });
    expect(f.locks.size).toBe(0);
  });
});
