// Failure semantics: rolling batches with thresholds (unreachable counted apart from failed),
// on_failure abort/continue/goto, verify + rollback, unreachable outcomes, strategy answers.
import { describe, expect, test } from 'vitest';
import { UnattendedStrategy, type FailureAnswer, type FailureRequest } from '../../src/engine/strategy.js';
import { FakeFleet, lastEnds, planOf, runPlan } from './helpers.js';

const rolling = (extra: string) => `
name: t
summary: rolling restart
steps:
  - id: restart
    name: restart MPs one pair at a time
    hosts: mps
    serial: 2
${extra}
    run: restart-mp
    mutates: true
  - id: after
    name: after the rollout
    hosts: r1
    run: after
`;

describe('rolling batches', () => {
  test('batches run in order, one step-start per batch, one step-end', async () => {
    const { plan, inventory } = planOf(rolling(''));
    const fleet = new FakeFleet();
    const ran = await runPlan(plan, inventory, fleet);
    const starts = ran.of('step-start').filter((s) => s.step === 'restart');
    expect(starts.map((s) => [s.batch, s.batches, s.hosts])).toEqual([
      [1, 2, ['mp1', 'mp2']],
      [2, 2, ['mp3', 'mp4']],
    ]);
    expect(ran.of('approval').map((a) => [a.batch, a.hosts, a.source])).toEqual([
      [1, ['mp1', 'mp2'], 'flag'],
      [2, ['mp3', 'mp4'], 'flag'],
    ]);
    expect(ran.of('step-end').filter((s) => s.step === 'restart')).toHaveLength(1);
    expect(ran.result.outcome).toBe('resolved');
  });

  test('a failure in a batch stops the rollout by default: later batches never run', async () => {
    const { plan, inventory } = planOf(rolling(''));
    const fleet = new FakeFleet().on('restart-mp', { exitCode: 1 }, { host: 'mp2' });
    const ran = await runPlan(plan, inventory, fleet);
    expect(fleet.commands('mp3')).toEqual([]);
    expect(fleet.commands('r1')).toEqual([]);
    expect(ran.result).toMatchObject({ outcome: 'failed', exitCode: 1, hosts: { mp1: 'ok', mp2: 'failed', mp3: 'skipped', mp4: 'skipped' } });
    expect(ran.of('step-end')[0]).toMatchObject({ step: 'restart', status: 'failed', next: null, failedHosts: ['mp2'] });
  });

  test('max_fail_percentage tolerates a failed host per batch: the rollout goes on without it, the run still fails', async () => {
    const { plan, inventory } = planOf(rolling('    max_fail_percentage: 50'));
    const fleet = new FakeFleet().on('restart-mp', { exitCode: 1 }, { host: 'mp2' });
    const ran = await runPlan(plan, inventory, fleet);
    expect(fleet.commands('mp3')).toEqual(['restart-mp']);
    expect(fleet.commands('r1')).toEqual(['after']);
    expect(ran.of('step-end')[0]).toMatchObject({ step: 'restart', status: 'partial', left: { mp2: 'failed' } });
    expect(ran.result).toMatchObject({ outcome: 'failed', exitCode: 1, hosts: { mp2: 'failed', mp3: 'ok' } });
  });

  test('exceeding max_fail_percentage stops the rollout', async () => {
    const { plan, inventory } = planOf(rolling('    max_fail_percentage: 40'));
    const fleet = new FakeFleet().on('restart-mp', { exitCode: 1 }, { host: 'mp2' });
    const ran = await runPlan(plan, inventory, fleet);
    expect(fleet.commands('mp3')).toEqual([]);
    expect(ran.result.outcome).toBe('failed');
  });

  test('unreachable hosts are counted apart: max_fail_percentage does not cover them, max_unavailable does', async () => {
    const a = planOf(rolling('    max_fail_percentage: 50'));
    const fleetA = new FakeFleet().on('restart-mp', 'unreachable', { host: 'mp1' });
    const ranA = await runPlan(a.plan, a.inventory, fleetA);
    expect(fleetA.commands('mp3')).toEqual([]);
    expect(ranA.result).toMatchObject({ outcome: 'unreachable', exitCode: 4, hosts: { mp1: 'unreachable', mp2: 'ok' } });

    const b = planOf(rolling('    max_fail_percentage: 50\n    max_unavailable: 1'));
    const fleetB = new FakeFleet().on('restart-mp', 'unreachable', { host: 'mp1' }).on('restart-mp', { exitCode: 1 }, { host: 'mp3' });
    const ranB = await runPlan(b.plan, b.inventory, fleetB);
    expect(fleetB.commands('mp3')).toEqual(['restart-mp']);
    expect(fleetB.commands('mp4')).toEqual(['restart-mp']);
    expect(fleetB.commands('r1')).toEqual(['after']);
    expect(ranB.of('step-end')[0]).toMatchObject({ left: { mp1: 'unreachable', mp3: 'failed' } });
    expect(ranB.result).toMatchObject({ outcome: 'failed', hosts: { mp1: 'unreachable', mp3: 'failed', mp4: 'ok' } });
  });

  test('a second unreachable host exceeds max_unavailable: 1 across batches', async () => {
    const { plan, inventory } = planOf(rolling('    max_unavailable: 1'));
    const fleet = new FakeFleet().on('restart-mp', 'unreachable', { host: 'mp1' }).on('restart-mp', 'unreachable', { host: 'mp3' });
    const ran = await runPlan(plan, inventory, fleet);
    expect(fleet.commands('mp4')).toEqual(['restart-mp']); // batch 2 ran (mp1 was tolerated), then stopped
    expect(fleet.commands('r1')).toEqual([]);
    expect(ran.result).toMatchObject({ outcome: 'unreachable', exitCode: 4 });
  });
});

describe('on_failure', () => {
  const rb = (policy: string) => `
name: t
summary: policies
steps:
  - id: check
    name: check
    hosts: mp1,mp2
    run: check
    on_failure: ${policy}
  - id: next_step
    name: next
    hosts: mp1,mp2
    run: next
  - id: escalate
    name: escalate
    outcome: { status: escalate, message: call a human }
`;
  test('abort (default) ends the run at the failed step', async () => {
    const { plan, inventory } = planOf(rb('abort'));
    const fleet = new FakeFleet().on('check', { exitCode: 1 }, { host: 'mp1' });
    const ran = await runPlan(plan, inventory, fleet);
    expect(fleet.commands().filter((c) => c === 'next')).toEqual([]);
    expect(ran.result).toMatchObject({ outcome: 'failed', exitCode: 1 });
  });

  test('continue: the failure is recorded, the host stays in the run as failed, the run is not failed by it', async () => {
    const { plan, inventory } = planOf(rb('continue'));
    const fleet = new FakeFleet().on('check', { exitCode: 1 }, { host: 'mp1' });
    const ran = await runPlan(plan, inventory, fleet);
    expect(fleet.commands('mp1')).toEqual(['check', 'next']);
    expect(ran.of('step-end')[0]).toMatchObject({ step: 'check', status: 'partial', tolerated: ['mp1'] });
    expect(ran.of('step-end')[0]?.failedHosts).toBeUndefined();
    // The host whose check failed is never reported ok; the runbook's own escalation stands.
    expect(ran.result).toMatchObject({ outcome: 'escalated', exitCode: 3, message: 'call a human', hosts: { mp1: 'failed', mp2: 'ok' } });
  });

  test('goto jumps to the named step', async () => {
    const { plan, inventory } = planOf(rb('{ goto: escalate }'));
    const fleet = new FakeFleet().on('check', { exitCode: 1 }, { host: 'mp2' });
    const ran = await runPlan(plan, inventory, fleet);
    expect(fleet.commands().filter((c) => c === 'next')).toEqual([]);
    expect(ran.of('step-end')[0]).toMatchObject({ step: 'check', status: 'failed', next: 'escalate' });
    expect(ran.result).toMatchObject({ outcome: 'escalated', exitCode: 3 });
  });
});

describe('verify and rollback', () => {
  const runbook = `
name: t
summary: fix with verification
steps:
  - id: fix
    name: apply the fix
    hosts: mps
    run: apply-fix
    mutates: true
    verify:
      run: check-fixed
      retries: 2
      delay: 1s
    rollback:
      - id: undo
        name: undo the fix
        run: undo-fix
        mutates: true
      - id: note
        name: note it
        run: note-rollback
`;
  test('rollback runs only on the hosts whose verification failed, then the run fails', async () => {
    const { plan, inventory } = planOf(runbook);
    const fleet = new FakeFleet().on('check-fixed', { exitCode: 1 }, { host: 'mp3' });
    const ran = await runPlan(plan, inventory, fleet);
    expect(fleet.commands('mp3')).toEqual(['apply-fix', 'check-fixed', 'check-fixed', 'check-fixed', 'undo-fix', 'note-rollback']);
    expect(fleet.commands('mp1')).toEqual(['apply-fix', 'check-fixed']);
    expect(ran.of('rollback')).toEqual([expect.objectContaining({ step: 'fix', host: 'mp3' })]);
    const undoStart = ran.of('step-start').find((s) => s.step === 'undo');
    expect(undoStart).toMatchObject({ rollbackOf: 'fix', hosts: ['mp3'] });
    expect(ran.of('approval').find((a) => a.step === 'undo')).toMatchObject({ decision: 'approved', source: 'policy', hosts: ['mp3'] });
    const verifyEnd = ran
      .of('host-end')
      .filter((e) => e.step === 'fix' && e.host === 'mp3')
      .at(-1);
    expect(verifyEnd).toMatchObject({ phase: 'verify', status: 'failed', final: true });
    expect(ran.result).toMatchObject({ outcome: 'failed', hosts: { mp1: 'ok', mp3: 'failed' } });
    expect(ran.result.message).toMatch(/verification failed/);
  });

  test('a failed command (not only a failed verification) is rolled back too; rollback does not run when all pass', async () => {
    const { plan, inventory } = planOf(runbook);
    const fleet = new FakeFleet().on('apply-fix', { exitCode: 9 }, { host: 'mp2' });
    const ran = await runPlan(plan, inventory, fleet);
    expect(fleet.commands('mp2')).toEqual(['apply-fix', 'undo-fix', 'note-rollback']);
    expect(ran.of('rollback').map((r) => r.host)).toEqual(['mp2']);

    const ok = planOf(runbook);
    const clean = await runPlan(ok.plan, ok.inventory, new FakeFleet());
    expect(clean.of('rollback')).toEqual([]);
    expect(clean.result.outcome).toBe('resolved');
  });
});

describe('unreachable hosts', () => {
  test('every targeted host unreachable → outcome unreachable, exit 4', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: all down
steps:
  - id: look
    name: look
    hosts: mps
    run: look
    on_failure: continue
  - id: again
    name: look again
    hosts: mps
    run: again
`);
    const fleet = new FakeFleet().on('look', 'unreachable');
    const ran = await runPlan(plan, inventory, fleet);
    expect(fleet.commands()).toHaveLength(4);
    expect(ran.of('step-skip')).toEqual([expect.objectContaining({ step: 'again', reason: 'unreachable earlier in the run' })]);
    expect(ran.result).toMatchObject({ outcome: 'unreachable', exitCode: 4, hosts: { mp1: 'unreachable', mp4: 'unreachable' } });
  });

  test('an unreachable host makes an aborting step fail → unreachable, exit 4; no retries against it', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: one down
steps:
  - id: look
    name: look
    hosts: mps
    run: look
    retries: 3
`);
    const fleet = new FakeFleet().on('look', 'unreachable', { host: 'mp2' });
    const ran = await runPlan(plan, inventory, fleet);
    expect(fleet.commands('mp2')).toEqual(['look']);
    expect(ran.result).toMatchObject({ outcome: 'unreachable', exitCode: 4, hosts: { mp1: 'ok', mp2: 'unreachable' } });
  });
});

describe('strategy answers after a failure', () => {
  class Scripted extends UnattendedStrategy {
    readonly requests: FailureRequest[] = [];
    readonly #answers: FailureAnswer[];
    constructor(answers: FailureAnswer[]) {
      super({ yes: true, operator: 'bob' });
      this.#answers = answers;
    }
    override async onFailure(req: FailureRequest): Promise<FailureAnswer> {
      this.requests.push(req);
      return this.#answers.shift() ?? { action: 'policy' };
    }
  }
  const runbook = `
name: t
summary: guided failure
steps:
  - id: fix
    name: fix
    hosts: mp1,mp2
    run: fix
    mutates: true
    rollback:
      - id: undo
        name: undo
        run: undo
        mutates: true
  - id: later
    name: later
    hosts: mp1,mp2
    run: later
`;
  test('retry re-runs only the failed hosts', async () => {
    const { plan, inventory } = planOf(runbook);
    const fleet = new FakeFleet().on('fix', { exitCode: 1 }, { host: 'mp2', times: 1 });
    const strategy = new Scripted([{ action: 'retry' }]);
    const ran = await runPlan(plan, inventory, fleet, { strategy });
    expect(fleet.commands('mp1')).toEqual(['fix', 'later']);
    expect(fleet.commands('mp2')).toEqual(['fix', 'fix', 'later']);
    expect(strategy.requests[0]).toMatchObject({
      failed: [expect.objectContaining({ host: 'mp2', exitCode: 1, verification: false })],
      canRollback: true,
      retried: 0,
    });
    expect(ran.result.outcome).toBe('resolved');
  });

  test('skip leaves the failed host as it is (no rollback) and goes on', async () => {
    const { plan, inventory } = planOf(runbook);
    const fleet = new FakeFleet().on('fix', { exitCode: 1 }, { host: 'mp2' });
    const ran = await runPlan(plan, inventory, fleet, { strategy: new Scripted([{ action: 'skip' }]) });
    expect(fleet.commands('mp2')).toEqual(['fix', 'later']);
    expect(ran.of('rollback')).toEqual([]);
  });

  test('rollback then stop; abort stops without rollback', async () => {
    const a = planOf(runbook);
    const fleetA = new FakeFleet().on('fix', { exitCode: 1 }, { host: 'mp2' });
    const ranA = await runPlan(a.plan, a.inventory, fleetA, { strategy: new Scripted([{ action: 'rollback' }]) });
    expect(fleetA.commands('mp2')).toEqual(['fix', 'undo']);
    expect(ranA.result.outcome).toBe('failed');

    const b = planOf(runbook);
    const fleetB = new FakeFleet().on('fix', { exitCode: 1 }, { host: 'mp2' });
    const ranB = await runPlan(b.plan, b.inventory, fleetB, { strategy: new Scripted([{ action: 'abort' }]) });
    expect(fleetB.commands('mp2')).toEqual(['fix']);
    expect(ranB.result.outcome).toBe('failed');
    expect(lastEnds(ranB, 'fix').get('mp2')?.status).toBe('failed');
  });
});
