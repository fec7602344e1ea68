// What a run may do: refusal without --yes, --plan-hash, probes that never mutate, host
// locks, interruption, and secrets kept out of every event.
import { describe, expect, test } from 'vitest';
import { MemorySink } from '../../src/engine/emitter.js';
import { probe } from '../../src/engine/probe.js';
import { UnattendedStrategy } from '../../src/engine/strategy.js';
import { RefusedError } from '../../src/errors.js';
import { FakeClock, FakeFleet, planOf, runPlan } from './helpers.js';

const diagnoseThenFix = `
name: t
summary: diagnose then fix
params:
  service: { type: string, default: edge-message-processor }
steps:
  - id: pid
    name: read the pid
    hosts: mps
    run: pgrep -f {{ service }}
    capture:
      pid: { as: integer }
  - id: diagnose
    name: decide
    decide:
      causes:
        - cause: stuck
          when: hosts("mps").exists(h, h.facts.pid == 2)
      default: none
  - id: never_fix
    name: a fix whose condition holds nowhere
    hosts: mps
    when: facts.pid == 999
    run: never
    mutates: true
  - id: restart
    name: restart the stuck MP
    hosts: mps
    when: cause == "stuck" && facts.pid == 2
    confirm: Restart {{ service }}?
    run: kill {{ facts.pid }} && apigee-service {{ service }} start
    mutates: true
  - id: check
    name: check after
    hosts: mps
    run: health
  - id: done
    name: done
    outcome: { status: resolved, message: restarted }
`;

function fleetWithStuckMp2(clock?: FakeClock): FakeFleet {
  return new FakeFleet(clock ?? null).on('pgrep', { stdout: '2' }, { host: 'mp2' }).on('pgrep', (c) => ({ stdout: String(c.host.length * 100) }));
}

describe('mutation policy', () => {
  test('without --yes: read-only steps run, the first mutating step that would run is refused (exit 5), nothing mutates', async () => {
    const { plan, inventory } = planOf(diagnoseThenFix);
    const fleet = fleetWithStuckMp2();
    const ran = await runPlan(plan, inventory, fleet, { yes: false });
    expect(fleet.commands().filter((c) => c.startsWith('pgrep'))).toHaveLength(4);
    expect(fleet.commands().filter((c) => /kill|never|health/.test(c))).toEqual([]);
    expect(ran.result).toMatchObject({ outcome: 'refused', exitCode: 5, cause: 'stuck' });
    // never_fix would not run anywhere: it does not count as "the first mutating step".
    const [approval] = ran.of('approval');
    expect(approval).toMatchObject({ step: 'restart', decision: 'refused', source: 'policy', hosts: ['mp2'] });
    expect(approval?.commands).toEqual([{ host: 'mp2', command: 'kill 2 && apigee-service edge-message-processor start' }]);
    expect(ran.result.message).toMatch(/restart.*--yes/);
    expect(fleet.locks.size).toBe(0);
  });

  test('with --yes: approved by flag, the host is locked first and released at the end', async () => {
    const { plan, inventory } = planOf(diagnoseThenFix);
    const fleet = fleetWithStuckMp2();
    const ran = await runPlan(plan, inventory, fleet, { yes: true });
    expect(fleet.commands('mp2')).toContain('kill 2 && apigee-service edge-message-processor start');
    expect(ran.of('approval')[0]).toMatchObject({ decision: 'approved', source: 'flag', operator: 'tester', planHash: plan.planHash });
    expect(ran.of('lock').map((l) => [l.host, l.action])).toEqual([
      ['mp2', 'acquired'],
      ['mp2', 'released'],
    ]);
    const lockIdx = fleet.calls.findIndex((c) => c.command.includes('remedy.lock'));
    const killIdx = fleet.calls.findIndex((c) => c.command.startsWith('kill'));
    expect(lockIdx).toBeLessThan(killIdx);
    expect(fleet.locks.size).toBe(0);
    expect(ran.result).toMatchObject({ outcome: 'resolved', exitCode: 0 });
  });

  test('--plan-hash: a different hash is refused before any connection', async () => {
    const { plan, inventory } = planOf(diagnoseThenFix);
    const fleet = fleetWithStuckMp2();
    const sink = new MemorySink();
    await expect(runPlan(plan, inventory, fleet, { expectedPlanHash: 'sha256:0000', sink })).rejects.toThrow(RefusedError);
    expect(fleet.calls).toEqual([]);
    expect(sink.events).toEqual([]);
    const same = await runPlan(plan, inventory, fleetWithStuckMp2(), { expectedPlanHash: plan.planHash });
    expect(same.result.exitCode).toBe(0);
  });
});

describe('probe', () => {
  test('runs only read-only steps, never a mutating one, and previews what would follow with facts filled in', async () => {
    const { plan, inventory } = planOf(diagnoseThenFix);
    const fleet = fleetWithStuckMp2();
    const result = await probe(plan, { inventory, transports: fleet, operator: 'carol', clock: new FakeClock() });
    expect(fleet.commands().every((c) => c.startsWith('pgrep'))).toBe(true);
    expect(fleet.calls.some((c) => c.command.includes('remedy.lock'))).toBe(false);
    expect(result.cause).toBe('stuck');
    expect(result.stoppedAt).toBe('restart');
    expect(result.steps.map((s) => s.id)).toEqual(['restart', 'check', 'done']);
    expect(result.mutations).toHaveLength(1);
    expect(result.mutations[0]).toMatchObject({
      id: 'restart',
      hosts: ['mp2'],
      confirm: 'Restart {{ service }}?',
      commands: [{ host: 'mp2', command: 'kill 2 && apigee-service edge-message-processor start' }],
    });
    expect(result.steps[1]?.hosts).toEqual(['mp1', 'mp2', 'mp3', 'mp4']);
    expect(result.facts.mp2).toEqual({ pid: 2 });
  });

  test('properties diffs in a probe come from the real file, read only', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: edit
steps:
  - id: edit
    name: set the timeout
    hosts: mp1
    properties:
      file: /opt/apigee/customer/application/router.properties
      set: { conf_load_balancing_load.balancing.driver.proxy.read.timeout: 120s }
`);
    const fleet = new FakeFleet().on('cat -- /opt/apigee', { stdout: '# comment\nconf_load_balancing_load.balancing.driver.proxy.read.timeout=57s\n' });
    const result = await probe(plan, { inventory, transports: fleet, operator: 'carol' });
    expect(fleet.commands()).toEqual([
      'cat -- /opt/apigee/customer/application/router.properties',
      'cat -- /opt/apigee/customer/application/router.properties',
    ]);
    expect(result.mutations[0]?.diffs.mp1).toMatch(
      /-conf_load_balancing_load.balancing.driver.proxy.read.timeout=57s\n\+conf_load_balancing_load.balancing.driver.proxy.read.timeout=120s/,
    );
    expect(result.outcome).toBe('refused');
  });

  test('a probe that meets no mutation to run reports the runbook outcome and an empty preview', async () => {
    const { plan, inventory } = planOf(diagnoseThenFix);
    const fleet = new FakeFleet().on('pgrep', { stdout: '5' });
    const result = await probe(plan, { inventory, transports: fleet, operator: 'carol' });
    // cause none → restart's condition false everywhere → health check (read-only) runs → outcome
    expect(result.stoppedAt).toBeNull();
    expect(result.mutations).toEqual([]);
    expect(result.outcome).toBe('resolved');
    expect(fleet.commands().some((c) => c.startsWith('kill'))).toBe(false);
  });
});

describe('host locks', () => {
  test('a host locked by another run: refused with who holds it and since when, nothing mutates (exit 5)', async () => {
    const { plan, inventory } = planOf(diagnoseThenFix);
    const fleet = fleetWithStuckMp2();
    fleet.locks.set('mp2', JSON.stringify({ runId: 'other-run', controller: 'bastion-2', pid: 4321, time: '2026-11-24T01:02:03.000Z' }));
    const ran = await runPlan(plan, inventory, fleet, { yes: true });
    expect(fleet.commands().some((c) => c.startsWith('kill'))).toBe(false);
    expect(ran.result).toMatchObject({ outcome: 'refused', exitCode: 5 });
    const refusal = ran.of('lock').find((l) => l.action === 'refused');
    expect(refusal?.detail).toMatch(/run other-run \(controller bastion-2, pid 4321\) since 2026-11-24T01:02:03.000Z.*--break-lock/);
    expect(fleet.locks.get('mp2')).toContain('other-run');
  });

  test('--break-lock removes the stale lock, records it, and the run proceeds', async () => {
    const { plan, inventory } = planOf(diagnoseThenFix);
    const fleet = fleetWithStuckMp2();
    fleet.locks.set('mp2', JSON.stringify({ runId: 'other-run', controller: 'bastion-2', pid: 4321, time: 'then' }));
    const ran = await runPlan(plan, inventory, fleet, { yes: true, breakLock: true });
    expect(ran.of('lock').map((l) => l.action)).toEqual(['broken', 'released']);
    expect(ran.of('lock')[0]?.detail).toMatch(/broke the lock of run other-run/);
    expect(fleet.commands('mp2')).toContain('kill 2 && apigee-service edge-message-processor start');
    expect(fleet.locks.size).toBe(0);
  });

  test('a resumed run takes over a lock its earlier segment left behind', async () => {
    const { plan, inventory } = planOf(diagnoseThenFix);
    const fleet = fleetWithStuckMp2();
    fleet.locks.set('mp2', JSON.stringify({ runId: 'run-0', controller: 'me', pid: 1, time: 'then' }));
    const ran = await runPlan(plan, inventory, fleet, {
      yes: true,
      resume: {
        runId: 'run-1',
        resumedFrom: '2026-11-24T00:00:00.000Z',
        previousRunIds: ['run-0'],
        lastSeq: 0,
        startIndex: 0,
        step: { done: new Set(), unfinished: new Set() },
        facts: {},
        cause: null,
        changed: false,
        dropped: {},
        failed: [],
        attempted: [],
        reached: [],
        approved: {},
        warnings: [],
      },
    });
    expect(ran.of('lock')[0]).toMatchObject({ action: 'acquired', detail: expect.stringMatching(/taken over from run run-0/) });
    expect(ran.result.exitCode).toBe(0);
  });
});

describe('interruption', () => {
  test('the first signal stops scheduling: running commands finish, nothing new starts, locks are released, exit 130', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: long
steps:
  - id: fix
    name: fix, two at a time
    hosts: mps
    serial: 2
    run: fix
    mutates: true
  - id: after
    name: after
    hosts: mps
    run: after
`);
    const stop = new AbortController();
    const fleet = new FakeFleet().on('fix', (call) => {
      if (call.host === 'mp2') stop.abort();
      return { exitCode: 0 };
    });
    const ran = await runPlan(plan, inventory, fleet, { yes: true, signal: stop.signal });
    expect(fleet.commands()).toEqual(['fix', 'fix']);
    expect(ran.result).toMatchObject({ outcome: 'interrupted', exitCode: 130 });
    expect(
      ran
        .of('lock')
        .filter((l) => l.action === 'released')
        .map((l) => l.host)
        .sort(),
    ).toEqual(['mp1', 'mp2']);
    expect(ran.of('step-end')).toEqual([]);
    expect(fleet.locks.size).toBe(0);
  });

  test('a sleep (retry delay, repeat interval) is cut short by the signal', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: dumps
steps:
  - id: dumps
    name: dumps
    hosts: mp1
    run: jstack
    repeat: { count: 3, interval: 30s }
`);
    const stop = new AbortController();
    const fleet = new FakeFleet().on('jstack', () => {
      stop.abort();
      return {};
    });
    const ran = await runPlan(plan, inventory, fleet, { signal: stop.signal, clock: undefined });
    expect(fleet.commands()).toEqual(['jstack']);
    expect(ran.result.outcome).toBe('interrupted');
    expect(ran.of('host-end')[0]?.final).toBeUndefined();
  });
});

describe('secrets and hostile values', () => {
  test('secret params never appear in any event; hostile values stay quoted', async () => {
    const { plan, inventory } = planOf(
      `
name: t
summary: secrets
params:
  token: { type: string, secret: true }
  label: { type: string, default: x }
steps:
  - id: call
    name: call the API
    hosts: mp1
    run: 'curl -H "Authorization: Bearer "{{ token }} --data {{ label }} http://localhost'
    mutates: true
`,
      { extraVars: ['token=s3cr3t-T0KEN', "label=x'; touch /tmp/pwned; '"] },
    );
    const fleet = new FakeFleet().on('curl', { stdout: 'echo s3cr3t-T0KEN back\n', stderr: 'token=s3cr3t-T0KEN' });
    const ran = await runPlan(plan, inventory, fleet, { yes: true });
    expect(fleet.commands('mp1')[0]).toContain('s3cr3t-T0KEN');
    expect(fleet.commands('mp1')[0]).toContain(`'x'\\''; touch /tmp/pwned; '\\'''`);
    expect(JSON.stringify(ran.events)).not.toContain('s3cr3t-T0KEN');
    expect(JSON.stringify(ran.events)).toContain('********');
  });

  test('a strategy that refuses mid-run is honoured on later batches', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: rolling
steps:
  - id: fix
    name: fix
    hosts: mps
    serial: 2
    run: fix
    mutates: true
`);
    let asked = 0;
    const strategy = new (class extends UnattendedStrategy {
      override async approve() {
        asked++;
        return asked === 1
          ? { decision: 'approved' as const, source: 'operator' as const, hosts: ['mp1'] }
          : { decision: 'skipped' as const, source: 'operator' as const };
      }
    })({ yes: false, operator: 'dana' });
    const fleet = new FakeFleet();
    const ran = await runPlan(plan, inventory, fleet, { strategy });
    expect(fleet.commands()).toEqual(['fix']);
    expect(fleet.calls.find((c) => c.command === 'fix')?.host).toBe('mp1');
    expect(ran.of('approval').map((a) => [a.decision, a.hosts])).toEqual([
      ['approved', ['mp1']],
      ['skipped', ['mp3', 'mp4']],
    ]);
    expect(
      ran
        .of('host-end')
        .filter((e) => e.reason === 'skipped at approval')
        .map((e) => e.host),
    ).toEqual(['mp2', 'mp3', 'mp4']);
    // The hosts whose fix was not approved may still be broken: no all-clear, and never "ok".
    expect(ran.result.outcome).toBe('escalated');
    expect(ran.result.exitCode).toBe(3);
    expect(ran.result.hosts).toMatchObject({ mp1: 'ok', mp2: 'not-remediated', mp3: 'not-remediated', mp4: 'not-remediated' });
    expect(ran.result.message).toMatch(/Not remediated: mp2 \(fix\), mp3 \(fix\), mp4 \(fix\)/);
  });
});
