// Executor semantics over a scripted fleet: captures and facts, per-host conditions, decisions
// over the fleet, retries, repeats, timeouts, pauses and outcomes.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { UnattendedStrategy, type CauseAnswer, type CauseRequest } from '../../src/engine/strategy.js';
import { FakeClock, FakeFleet, lastEnds, planOf, runPlan, tempDir } from './helpers.js';

describe('captures and per-host conditions', () => {
  const runbook = `
name: t
summary: captures feed conditions and templates
steps:
  - id: probe
    name: read the pid and state
    hosts: mps
    run: status-of-mp
    capture:
      pid: { regex: 'pid=(\\d+)', as: integer }
      state: { regex: 'state=(\\w+)' }
  - id: dump
    name: dump the stuck ones
    hosts: mps
    when: facts.state == "STUCK"
    run: jstack {{ facts.pid }}
`;

  test('facts from a capture reach later conditions and commands; other hosts are skipped with the reason', async () => {
    const { plan, inventory } = planOf(runbook);
    const fleet = new FakeFleet()
      .on('status-of-mp', { stdout: 'pid=101 state=STUCK\n' }, { host: 'mp1' })
      .on('status-of-mp', { stdout: 'pid=202 state=OK\n' }, { host: 'mp2' })
      .on('status-of-mp', { stdout: 'pid=303 state=STUCK\n' });
    const ran = await runPlan(plan, inventory, fleet);
    expect(ran.result.outcome).toBe('nothing-to-do');
    expect(ran.result.exitCode).toBe(0);
    expect(fleet.commands('mp1')).toEqual(['status-of-mp', 'jstack 101']);
    expect(fleet.commands('mp2')).toEqual(['status-of-mp']);
    expect(fleet.commands('mp3')).toEqual(['status-of-mp', 'jstack 303']);
    const probeEnds = lastEnds(ran, 'probe');
    expect(probeEnds.get('mp2')?.facts).toEqual({ pid: 202, state: 'OK' });
    const dumpEnds = lastEnds(ran, 'dump');
    expect(dumpEnds.get('mp2')).toMatchObject({ status: 'skipped', final: true });
    expect(dumpEnds.get('mp2')?.reason).toMatch(/condition is false/);
    expect(ran.result.facts.mp1).toEqual({ pid: 101, state: 'STUCK' });
  });

  test('a step whose condition is false everywhere is skipped as a whole', async () => {
    const { plan, inventory } = planOf(runbook);
    const fleet = new FakeFleet().on('status-of-mp', { stdout: 'pid=1 state=OK' });
    const ran = await runPlan(plan, inventory, fleet);
    expect(ran.of('step-skip').map((s) => s.step)).toEqual(['dump']);
    expect(fleet.commands().filter((c) => c.startsWith('jstack'))).toEqual([]);
  });

  test('a capture that does not match gives null (with a warning), and the condition sees null', async () => {
    const { plan, inventory } = planOf(runbook);
    const fleet = new FakeFleet().on('status-of-mp', { stdout: 'pid=1 state=STUCK' }, { host: 'mp1' }).on('status-of-mp', { stdout: 'garbage' });
    const ran = await runPlan(plan, inventory, fleet);
    expect(fleet.commands('mp1')).toContain('jstack 1');
    expect(fleet.commands('mp2')).toEqual(['status-of-mp']);
    expect(lastEnds(ran, 'probe').get('mp2')?.facts).toEqual({ pid: null, state: null });
    expect(ran.of('warning').some((w) => w.host === 'mp2' && /capture pid/.test(w.message))).toBe(true);
  });

  test('a condition that cannot be evaluated (a fact this host never captured) skips the host with a warning, never runs it', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: missing fact
steps:
  - id: read
    name: read on mp2 only
    hosts: mp2
    run: read
    capture:
      level: stdout
  - id: act
    name: act where the level is high
    hosts: mp1,mp2
    when: facts.level == "high"
    run: act
`);
    const fleet = new FakeFleet().on('read', { stdout: 'low' });
    const ran = await runPlan(plan, inventory, fleet);
    expect(fleet.commands()).toEqual(['read']);
    expect(ran.of('warning')[0]).toMatchObject({ host: 'mp1' });
    expect(ran.of('warning')[0]?.message).toMatch(/level/);
    expect(ran.of('step-skip')[0]?.reason).toMatch(/could not be evaluated/);
  });

  test('full outputs go to outputs/<step>/<host> files in the run dir', async () => {
    const { plan, inventory } = planOf(runbook);
    const dir = tempDir();
    const fleet = new FakeFleet().on('status-of-mp', { stdout: 'pid=7 state=OK\nsecond line\n', stderr: 'warn\n' });
    const ran = await runPlan(plan, inventory, fleet, { runDir: dir });
    const end = lastEnds(ran, 'probe').get('mp3');
    expect(end?.outputs).toEqual({ stdout: 'outputs/probe/mp3.stdout', stderr: 'outputs/probe/mp3.stderr' });
    expect(readFileSync(join(dir, 'outputs/probe/mp3.stdout'), 'utf8')).toBe('pid=7 state=OK\nsecond line\n');
    expect(readFileSync(join(dir, 'outputs/probe/mp3.stderr'), 'utf8')).toBe('warn\n');
    expect(ran.of('host-output').some((o) => o.host === 'mp3' && o.line === 'second line')).toBe(true);
  });
});

describe('decide', () => {
  const runbook = `
name: t
summary: decide from the fleet
steps:
  - id: health
    name: health of each MP
    hosts: mps
    run: check-health
    capture:
      up: { as: boolean }
  - id: diagnose
    name: name the cause
    decide:
      causes:
        - cause: all-mps-down
          when: hosts("mps").all(h, h.facts.up == false)
          summary: every MP is down
        - cause: some-mps-down
          when: hosts("mps").exists(h, h.facts.up == false)
      default: none
  - id: fix_all
    name: restart everything
    hosts: mps
    when: cause == "all-mps-down"
    run: restart-all
    mutates: true
  - id: fix_some
    name: restart the down ones
    hosts: mps
    when: cause == "some-mps-down" && facts.up == false
    run: restart-one
    mutates: true
  - id: restarted
    name: the down MPs were restarted
    when: cause != "none"
    outcome:
      status: resolved
      require: hosts("mps").all(h, h.facts.up || h.name in steps.fix_some.changed || h.name in steps.fix_all.changed)
      message: "restarted {{ steps.fix_some.changed | concat: steps.fix_all.changed | join: ', ' }}"
  - id: healthy
    name: every MP is up
    outcome:
      status: nothing-to-do
      require: hosts("mps").all(h, h.facts.up)
      message: every MP answered up
`;

  test('the first true cause wins, evidence carries the facts its condition read, later steps branch on it', async () => {
    const { plan, inventory } = planOf(runbook);
    const fleet = new FakeFleet().on('check-health', { stdout: 'false' }, { host: 'mp2' }).on('check-health', { stdout: 'true' });
    const ran = await runPlan(plan, inventory, fleet);
    const [decision] = ran.of('decision');
    expect(decision).toMatchObject({ step: 'diagnose', cause: 'some-mps-down', candidates: ['all-mps-down', 'some-mps-down', 'none'] });
    expect(decision?.evidence.condition).toBe('hosts("mps").exists(h, h.facts.up == false)');
    expect(decision?.evidence.facts).toEqual({ mp1: { up: true }, mp2: { up: false }, mp3: { up: true }, mp4: { up: true } });
    // Unattended: nobody was asked, so nobody is recorded as having accepted the cause.
    expect(decision?.confirmedBy).toBeUndefined();
    expect(fleet.commands().filter((c) => c.startsWith('restart'))).toEqual(['restart-one']);
    expect(fleet.commands('mp2')).toContain('restart-one');
    expect(ran.result).toMatchObject({ cause: 'some-mps-down', outcome: 'resolved', exitCode: 0 });
  });

  test('no cause true → the default', async () => {
    const { plan, inventory } = planOf(runbook);
    const fleet = new FakeFleet().on('check-health', { stdout: 'true' });
    const ran = await runPlan(plan, inventory, fleet);
    expect(ran.of('decision')[0]).toMatchObject({ cause: 'none', evidence: { condition: null } });
    expect(ran.result.outcome).toBe('nothing-to-do');
  });

  test('a person who accepts the concluded cause is recorded with it (no override)', async () => {
    const { plan, inventory } = planOf(runbook);
    const fleet = new FakeFleet().on('check-health', { stdout: 'false' }, { host: 'mp2' }).on('check-health', { stdout: 'true' });
    const strategy = new (class extends UnattendedStrategy {
      override async confirmCause(req: CauseRequest): Promise<CauseAnswer> {
        return { cause: req.cause, source: 'operator' };
      }
    })({ yes: true, operator: 'alice' });
    const ran = await runPlan(plan, inventory, fleet, { strategy });
    const [decision] = ran.of('decision');
    expect(decision).toMatchObject({ cause: 'some-mps-down', confirmedBy: 'alice' });
    expect(decision?.override).toBeUndefined();
  });

  test('the strategy may override the cause; the override is recorded with the operator', async () => {
    const { plan, inventory } = planOf(runbook);
    const fleet = new FakeFleet().on('check-health', { stdout: 'false' }, { host: 'mp2' }).on('check-health', { stdout: 'true' });
    const asked: CauseRequest[] = [];
    const strategy = new (class extends UnattendedStrategy {
      override async confirmCause(req: CauseRequest): Promise<CauseAnswer> {
        asked.push(req);
        return { cause: 'all-mps-down', source: 'operator' };
      }
    })({ yes: true, operator: 'alice' });
    const ran = await runPlan(plan, inventory, fleet, { strategy });
    expect(asked[0]?.cause).toBe('some-mps-down');
    expect(asked[0]?.candidates.map((c) => c.cause)).toEqual(['all-mps-down', 'some-mps-down', 'none']);
    expect(ran.of('decision')[0]).toMatchObject({ cause: 'all-mps-down', override: { from: 'some-mps-down', operator: 'alice' }, confirmedBy: 'alice' });
    expect(fleet.commands().filter((c) => c === 'restart-all')).toHaveLength(4);
  });
});

describe('retries, repeat, timeouts, pauses', () => {
  test('retries with a delay: failed attempts are recorded, the last one is final', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: retries
steps:
  - id: flaky
    name: flaky check
    hosts: mp1
    run: flaky
    retries: 3
    delay: 5s
`);
    const clock = new FakeClock();
    const fleet = new FakeFleet(clock).on('flaky', (_c, n) => ({ exitCode: n < 3 ? 1 : 0 }));
    const ran = await runPlan(plan, inventory, fleet, { clock });
    expect(fleet.commands('mp1')).toEqual(['flaky', 'flaky', 'flaky']);
    expect(clock.sleeps).toEqual([5000, 5000]);
    const ends = ran.of('host-end').filter((e) => e.step === 'flaky');
    expect(ends.map((e) => [e.attempt, e.status, e.final ?? false])).toEqual([
      [1, 'failed', false],
      [2, 'failed', false],
      [3, 'ok', true],
    ]);
    expect(ran.result.exitCode).toBe(0);
  });

  test('retries exhausted: the step fails and the run aborts (exit 1)', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: retries
steps:
  - id: flaky
    name: flaky check
    hosts: mp1
    run: flaky
    retries: 1
  - id: after
    name: never reached
    hosts: mp1
    run: after
`);
    const fleet = new FakeFleet().on('flaky', { exitCode: 2, stderr: 'boom' });
    const ran = await runPlan(plan, inventory, fleet);
    expect(fleet.commands('mp1')).toEqual(['flaky', 'flaky']);
    expect(ran.result).toMatchObject({ outcome: 'failed', exitCode: 1, hosts: { mp1: 'failed' } });
    expect(ran.result.message).toMatch(/step flaky failed on mp1 \(exit code 2\)/);
  });

  test('repeat: three numbered iterations, the interval between them, each with its own output file', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: jstack three times
steps:
  - id: dumps
    name: thread dumps
    hosts: mp1
    run: jstack 42
    repeat: { count: 3, interval: 30s }
`);
    const clock = new FakeClock();
    const dir = tempDir();
    const fleet = new FakeFleet(clock).on('jstack', (c) => ({ stdout: `dump at ${c.at}\n` }));
    const ran = await runPlan(plan, inventory, fleet, { clock, runDir: dir });
    expect(fleet.calls.filter((c) => c.command === 'jstack 42').map((c) => c.at)).toEqual([0, 30000, 60000]);
    expect(clock.sleeps).toEqual([30000, 30000]);
    expect(ran.of('host-start').map((e) => e.iteration)).toEqual([1, 2, 3]);
    const ends = ran.of('host-end');
    expect(ends.map((e) => e.final ?? false)).toEqual([false, false, true]);
    expect(readFileSync(join(dir, 'outputs/dumps/mp1.i2.stdout'), 'utf8')).toBe('dump at 30000\n');
    expect(existsSync(join(dir, 'outputs/dumps/mp1.i3.stdout'))).toBe(true);
  });

  test('timeout: passed to the transport; a timed-out command is status timed-out and fails the run', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: timeouts
steps:
  - id: slow
    name: slow command
    hosts: mp1,mp2
    run: slow
    timeout: 2s
`);
    const fleet = new FakeFleet().on('slow', { timedOut: true }, { host: 'mp2' });
    const ran = await runPlan(plan, inventory, fleet);
    expect(fleet.calls.map((c) => c.timeoutMs)).toEqual([2000, 2000]);
    expect(lastEnds(ran, 'slow').get('mp2')).toMatchObject({ status: 'timed-out', signal: 'TERM' });
    expect(lastEnds(ran, 'slow').get('mp2')?.error).toMatch(/timed out after 2000 ms/);
    expect(ran.result).toMatchObject({ outcome: 'failed', exitCode: 1 });
  });

  test('wait: re-runs the check until `until` holds, within retries', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: wait
steps:
  - id: up
    name: wait for the MP
    hosts: mp1
    wait:
      run: curl -s localhost:8082/up
      until: result.stdout == "true"
      retries: 5
      delay: 2s
`);
    const clock = new FakeClock();
    const fleet = new FakeFleet(clock).on('curl', (_c, n) => ({ stdout: n < 4 ? 'false' : 'true' }));
    const ran = await runPlan(plan, inventory, fleet, { clock });
    expect(fleet.commands('mp1')).toHaveLength(4);
    expect(clock.sleeps).toEqual([2000, 2000, 2000]);
    expect(lastEnds(ran, 'up').get('mp1')).toMatchObject({ status: 'ok', final: true, attempt: 4 });
    expect(ran.result.exitCode).toBe(0);
  });

  test('wait with a timeout and no retries keeps trying until the deadline, then fails', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: wait
steps:
  - id: up
    name: wait for the MP
    hosts: mp1
    wait:
      run: check-up
      timeout: 10s
      delay: 3s
`);
    const clock = new FakeClock();
    const fleet = new FakeFleet(clock).on('check-up', { exitCode: 7 });
    const ran = await runPlan(plan, inventory, fleet, { clock });
    expect(fleet.commands('mp1').length).toBe(4);
    expect(fleet.calls.map((c) => c.timeoutMs)).toEqual([10000, 7000, 4000, 1000]);
    expect(lastEnds(ran, 'up').get('mp1')?.error).toMatch(/gave up after 10000 ms/);
    expect(ran.result.outcome).toBe('failed');
  });

  test('pause without hosts sleeps once on the controller; with hosts, per host', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: pauses
steps:
  - id: settle
    name: let it settle
    pause: 45s
  - id: per_host
    name: per host
    hosts: mp1,mp2
    pause: { duration: 1s, message: waiting }
`);
    const clock = new FakeClock();
    const ran = await runPlan(plan, inventory, new FakeFleet(clock), { clock });
    expect(clock.sleeps).toEqual([45000, 1000, 1000]);
    expect(ran.of('step-end').map((s) => s.step)).toEqual(['settle', 'per_host']);
  });
});

describe('outcomes', () => {
  const runbook = (status: string) => `
name: t
summary: outcomes
steps:
  - id: look
    name: look
    hosts: mp1
    run: look
  - id: done
    name: end here
    outcome: { status: ${status}, message: "ended {{ 'by' }} the runbook" }
  - id: unreachable_step
    name: never runs
    hosts: mp1
    run: never
`;
  test.each([
    ['resolved', 'resolved', 0],
    ['escalate', 'escalated', 3],
    ['nothing-to-do', 'nothing-to-do', 0],
  ])('outcome %s ends the run as %s, exit %i', async (status, outcome, code) => {
    const { plan, inventory } = planOf(runbook(status));
    const fleet = new FakeFleet();
    const ran = await runPlan(plan, inventory, fleet);
    expect(ran.result).toMatchObject({ outcome, exitCode: code, message: 'ended by the runbook' });
    expect(fleet.commands()).toEqual(['look']);
    expect(ran.of('outcome')[0]).toMatchObject({ step: 'done', status });
    expect(ran.of('run-end')[0]).toMatchObject({ outcome, exitCode: code, hosts: { mp1: 'ok' } });
  });

  test('without an outcome step: resolved when a mutating step changed something, else nothing-to-do', async () => {
    const rb = (mutates: boolean) => `
name: t
summary: implicit
steps:
  - id: act
    name: act
    hosts: mp1
    run: act
    mutates: ${mutates}
`;
    const a = planOf(rb(true));
    expect((await runPlan(a.plan, a.inventory, new FakeFleet())).result.outcome).toBe('resolved');
    const b = planOf(rb(false));
    expect((await runPlan(b.plan, b.inventory, new FakeFleet())).result.outcome).toBe('nothing-to-do');
  });

  test.each([
    ['nothing changed', 'false', 'nothing was changed'],
    ['a fix changed something', 'true', 'changes were made, but nothing verified that they dealt with it'],
  ])('a decided cause whose path reaches no outcome step escalates (exit 3), naming the cause (%s)', async (_what, mutates, said) => {
    const rb = `
name: t
summary: a cause with no outcome
steps:
  - id: look
    name: look
    hosts: mp1
    run: look
    capture:
      level: { as: integer }
  - id: diagnose
    name: decide
    decide:
      causes:
        - cause: high
          when: hosts("mp1").exists(h, h.facts.level > 5)
      default: none
  - id: act
    name: act
    hosts: mp1
    when: cause == "high"
    run: act
    mutates: ${mutates}
  - id: low
    name: only the low level has an outcome
    when: cause == "none"
    outcome: { status: nothing-to-do, message: level is low }
`;
    const { plan, inventory } = planOf(rb);
    const ran = await runPlan(plan, inventory, new FakeFleet().on('look', { stdout: '9' }));
    expect(ran.result).toMatchObject({ outcome: 'escalated', exitCode: 3, cause: 'high' });
    expect(ran.result.message).toContain('decided cause high');
    expect(ran.result.message).toContain('no outcome was reached');
    expect(ran.result.message).toContain(said);
    expect(ran.result.message).not.toMatch(/nothing to do/i);
    expect(ran.of('run-end')[0]).toMatchObject({ outcome: 'escalated', exitCode: 3, cause: 'high' });
    // The same runbook with the cause that has an outcome step still ends as that step says.
    const low = await runPlan(plan, inventory, new FakeFleet().on('look', { stdout: '1' }));
    expect(low.result).toMatchObject({ outcome: 'nothing-to-do', exitCode: 0, cause: 'none', message: 'level is low' });
  });
});
