// Verdicts the run can back with what it saw: `require` on all-clear outcomes, `steps` in outcome
// text and conditions, no all-clear when every command failed, optional fetches of absent files
// reported as skipped, and hosts whose fix was declined reported as not remediated.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { UnattendedStrategy, type ApprovalRequest } from '../../src/engine/strategy.js';
import { validateFiles } from '../../src/runbook/validate.js';
import { FakeClock, FakeFleet, lastEnds, planOf, runPlan, tempDir } from './helpers.js';

/** The messages `remedy validate` gives for a runbook (file named after it, so no name warning). */
function checkRunbook(text: string): string[] {
  const file = join(tempDir(), 't.yaml');
  writeFileSync(file, text);
  return validateFiles([file]).map((d) => d.message);
}

const probeRunbook = `
name: t
summary: an all-clear that must be proven
steps:
  - id: probe
    name: probe
    hosts: mps
    run: probe
    capture:
      code: { regex: 'code=(\\d+)', as: integer, default: 0 }
  - id: diagnose
    name: diagnose
    decide:
      causes:
        - cause: down
          when: hosts('mps').exists(m, m.facts.code == 503)
      default: none
  - id: healthy
    name: healthy
    when: cause == "none"
    outcome:
      status: nothing-to-do
      require: hosts('mps').all(m, m.status == "ok" && m.facts.code == 200)
      message: "All of {{ steps.probe.ok | join: ', ' }} answered 200."
  - id: down
    name: down
    when: cause == "down"
    outcome: { status: escalate, message: down }
`;

describe('require: an all-clear only with proof', () => {
  test('the requirement holds: nothing-to-do, and the message names the hosts the step really ran on', async () => {
    const { plan, inventory } = planOf(probeRunbook);
    const ran = await runPlan(plan, inventory, new FakeFleet().on('probe', { stdout: 'code=200' }));
    expect(ran.result).toMatchObject({ outcome: 'nothing-to-do', exitCode: 0, message: 'All of mp1, mp2, mp3, mp4 answered 200.' });
  });

  test('one host answers 000 (no cause explains it): the run escalates, exit 3, with the unmet condition and the evidence', async () => {
    const { plan, inventory } = planOf(probeRunbook);
    const fleet = new FakeFleet().on('probe', { stdout: 'code=000' }, { host: 'mp2' }).on('probe', { stdout: 'code=200' });
    const ran = await runPlan(plan, inventory, fleet);
    expect(ran.result.outcome).toBe('escalated');
    expect(ran.result.exitCode).toBe(3);
    expect(ran.result.message).toMatch(/cannot claim "nothing-to-do"/);
    expect(ran.result.message).toContain('hosts(\'mps\').all(m, m.status == "ok" && m.facts.code == 200)` does not hold');
    expect(ran.result.message).toMatch(/mp2: code=0/);
    expect(ran.of('outcome')).toEqual([expect.objectContaining({ step: 'healthy', status: 'escalate' })]);
    expect(ran.of('warning').map((w) => w.message)).toEqual([expect.stringMatching(/outcome nothing-to-do not proven/)]);
  });

  test('a host that could not be read (unreachable) cannot be proven healthy', async () => {
    const { plan, inventory } = planOf(probeRunbook);
    const fleet = new FakeFleet().on('probe', 'unreachable', { host: 'mp3' }).on('probe', { stdout: 'code=200' });
    const ran = await runPlan(plan, inventory, fleet);
    expect(ran.result.outcome).not.toBe('nothing-to-do');
    expect(ran.result.exitCode).not.toBe(0);
  });

  test('validate warns about an all-clear outcome without require, not about one with it', () => {
    const unguarded = probeRunbook.replace('      require: hosts(\'mps\').all(m, m.status == "ok" && m.facts.code == 200)\n', '');
    expect(checkRunbook(unguarded)).toEqual([expect.stringMatching(/unguarded all-clear/)]);
    expect(checkRunbook(probeRunbook)).toEqual([]);
  });
});

describe('every command failed', () => {
  test('steps that all failed under on_failure: continue do not end nothing-to-do', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: tolerant
steps:
  - id: a
    name: a
    hosts: mps
    run: check-a
    on_failure: continue
  - id: b
    name: b
    hosts: mps
    run: check-b
    on_failure: continue
`);
    const ran = await runPlan(plan, inventory, new FakeFleet().on('check', { exitCode: 2 }));
    expect(ran.result.outcome).toBe('failed');
    expect(ran.result.exitCode).toBe(1);
    expect(ran.result.message).toMatch(/every command the run tried failed/);
    // One success tells the tolerated failures apart from a blind run, but the hosts where check-a
    // failed are still not proven fine: the run escalates naming them, never nothing-to-do.
    const some = await runPlan(plan, inventory, new FakeFleet().on('check-a', { exitCode: 2 }));
    expect(some.result).toMatchObject({ outcome: 'escalated', exitCode: 3 });
    expect(some.result.message).toMatch(/^Steps failed on mp1 \(a\), mp2 \(a\).* cannot say those hosts are fine/);
    expect(Object.values(some.result.hosts)).toEqual(['failed', 'failed', 'failed', 'failed']);
  });
});

describe('steps in outcome messages and conditions', () => {
  test('a declined skippable step is not claimed, and its follow-up is skipped by its steps condition', async () => {
    const { plan, inventory, dir } = planOf(`
name: t
summary: evidence then fix
steps:
  - id: dump
    name: dump
    hosts: mps
    run: dump
    mutates: true
    skippable: true
  - id: fetch_dump
    name: fetch the dump
    hosts: mps
    when: host.name in steps.dump.changed
    fetch: { src: /tmp/dump, optional: true }
  - id: fix
    name: fix
    hosts: mps
    run: fix
    mutates: true
  - id: done
    name: done
    outcome:
      status: resolved
      require: hosts('mps').all(m, m.name in steps.fix.ok)
      message: "Fixed {{ steps.fix.changed | join: ', ' }}{% if steps.fetch_dump.ok.size > 0 %}; dumps of {{ steps.fetch_dump.ok | join: ', ' }} saved{% else %}; no dump was taken{% endif %} (run {{ run.id }})."
`);
    const strategy = new (class extends UnattendedStrategy {
      override async approve(req: ApprovalRequest) {
        if (req.step.id === 'dump') return { decision: 'approved' as const, source: 'operator' as const, hosts: ['mp1'] };
        return { decision: 'approved' as const, source: 'operator' as const };
      }
    })({ yes: true, operator: 'dana' });
    mkdirSync(join(dir, 'artifacts', 'mp1'), { recursive: true }); // the real transport makes it; the fake does not
    const ran = await runPlan(plan, inventory, new FakeFleet(), { strategy, runDir: dir });
    expect(ran.result.message).toBe(`Fixed mp1, mp2, mp3, mp4; dumps of mp1 saved (run ${ran.result.runId}).`);
    expect(ran.result.outcome).toBe('resolved');
    expect(ran.result.message).toBe(`Fixed mp1, mp2, mp3, mp4; dumps of mp1 saved (run ${ran.result.runId}).`);
    // Declining a skippable step leaves the hosts remediated.
    expect(ran.result.hosts).toEqual({ mp1: 'ok', mp2: 'ok', mp3: 'ok', mp4: 'ok' });
    const fetchEnds = ran.of('host-end').filter((e) => e.step === 'fetch_dump');
    expect(fetchEnds.map((e) => [e.host, e.status])).toEqual([
      ['mp2', 'skipped'],
      ['mp3', 'skipped'],
      ['mp4', 'skipped'],
      ['mp1', 'ok'],
    ]);
  });

  test('an optional fetch of an absent file is skipped (file absent), never ok', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: fetch
steps:
  - id: get
    name: get
    hosts: mp1
    fetch: { src: /tmp/none, optional: true }
`);
    const ran = await runPlan(plan, inventory, new FakeFleet().on('test -e', { exitCode: 1 }), { runDir: tempDir() });
    expect(ran.of('host-end').filter((e) => e.step === 'get')).toEqual([
      expect.objectContaining({ status: 'skipped', reason: expect.stringMatching(/^file absent/) }),
    ]);
  });
});

describe('not remediated', () => {
  test('hosts whose fix was declined are not-remediated in run-end, and the run escalates naming them', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: fix
steps:
  - id: fix
    name: fix
    hosts: mps
    run: fix
    mutates: true
`);
    const strategy = new (class extends UnattendedStrategy {
      override async approve() {
        return { decision: 'approved' as const, source: 'operator' as const, hosts: ['mp1', 'mp2'] };
      }
    })({ yes: true, operator: 'dana' });
    const ran = await runPlan(plan, inventory, new FakeFleet(), { strategy });
    expect(ran.of('run-end')[0]).toMatchObject({
      outcome: 'escalated',
      exitCode: 3,
      hosts: { mp1: 'ok', mp2: 'ok', mp3: 'not-remediated', mp4: 'not-remediated' },
    });
    expect(ran.result.message).toMatch(/Not remediated: mp3 \(fix\), mp4 \(fix\)/);
  });

  test('a run refused before its fix (no --yes) leaves every host that needed it not-remediated', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: fix
steps:
  - id: fix
    name: fix
    hosts: mps
    run: fix
    mutates: true
`);
    const ran = await runPlan(plan, inventory, new FakeFleet(), { yes: false });
    expect(ran.result.outcome).toBe('refused');
    expect(Object.values(ran.result.hosts)).toEqual(['not-remediated', 'not-remediated', 'not-remediated', 'not-remediated']);
  });
});

describe('a verify step does not wait on hosts whose fix the operator declined', () => {
  const runbook = `
name: t
summary: fix, then wait for recovery
steps:
  - id: fix
    name: fix
    hosts: mps
    run: fix
    mutates: true
  - id: verify
    name: verify
    hosts: mps
    wait:
      run: check
      until: result.stdout == "200"
      retries: 30
      delay: 2s
`;
  const pickTwo = (): UnattendedStrategy =>
    new (class extends UnattendedStrategy {
      override async approve() {
        return { decision: 'approved' as const, source: 'operator' as const, hosts: ['mp1', 'mp2'] };
      }
    })({ yes: true, operator: 'dana' });

  test('declined hosts are skipped at once with the reason; approved hosts are still polled until they recover', async () => {
    const { plan, inventory } = planOf(runbook);
    const clock = new FakeClock();
    // The declined hosts would never recover: waiting on them would cost 30 × 2 s.
    const fleet = new FakeFleet(clock)
      .on('check', { stdout: '502' }, { host: 'mp2', times: 2 })
      .on('check', { stdout: '200' }, { host: 'mp1' })
      .on('check', { stdout: '200' }, { host: 'mp2' })
      .on('check', { stdout: '502' });
    const ran = await runPlan(plan, inventory, fleet, { strategy: pickTwo(), clock });
    const ends = lastEnds(ran, 'verify');
    expect(ends.get('mp1')).toMatchObject({ status: 'ok' });
    expect(ends.get('mp2')).toMatchObject({ status: 'ok' });
    for (const h of ['mp3', 'mp4']) {
      expect(ends.get(h)).toMatchObject({ status: 'skipped', reason: 'not waited on: its fix was declined (fix)' });
      expect(fleet.commands(h).filter((c) => c.includes('check'))).toEqual([]);
    }
    // Only mp2's two failed polls slept; nothing waited on mp3/mp4.
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(4000);
    expect(ran.of('run-end')[0]).toMatchObject({
      outcome: 'escalated',
      exitCode: 3,
      hosts: { mp1: 'ok', mp2: 'ok', mp3: 'not-remediated', mp4: 'not-remediated' },
    });
  });

  test('every host declined: the verify step is skipped as a whole, without one poll', async () => {
    const { plan, inventory } = planOf(runbook);
    const clock = new FakeClock();
    const strategy = new (class extends UnattendedStrategy {
      override async approve() {
        return { decision: 'skipped' as const, source: 'operator' as const };
      }
    })({ yes: true, operator: 'dana' });
    const fleet = new FakeFleet(clock).on('check', { stdout: '502' });
    const ran = await runPlan(plan, inventory, fleet, { strategy, clock });
    expect(ran.of('step-skip').find((s) => s.step === 'verify')?.reason).toBe('not waited on: its fix was declined (fix)');
    expect(fleet.commands().filter((c) => c.includes('check'))).toEqual([]);
    expect(clock.sleeps).toEqual([]);
    expect(ran.result.outcome).toBe('escalated');
  });
});

describe('retried attempts keep their own output files', () => {
  test('the same step, host and label opened again (a retry, resume --retry-failed) writes a new file, never appends', async () => {
    const { OutputStore } = await import('../../src/engine/outputs.js');
    const { Redactor } = await import('../../src/redact/redactor.js');
    const { readFileSync, existsSync } = await import('node:fs');
    const dir = tempDir();
    mkdirSync(join(dir, 'outputs', 'verify'), { recursive: true });
    // An earlier segment's attempt, already on disk.
    writeFileSync(join(dir, 'outputs', 'verify', 'r2.stdout'), '502');
    const store = new OutputStore(dir, new Redactor([]));
    const first = store.open('verify', 'r2', '', () => undefined);
    first.stdout.write('200');
    expect(await first.stdout.close()).toBe('outputs/verify/r2.retry2.stdout');
    await first.stderr.close();
    const second = store.open('verify', 'r2', '', () => undefined);
    second.stdout.write('201');
    expect(await second.stdout.close()).toBe('outputs/verify/r2.retry3.stdout');
    await second.stderr.close();
    expect(readFileSync(join(dir, 'outputs/verify/r2.stdout'), 'utf8')).toBe('502');
    expect(readFileSync(join(dir, 'outputs/verify/r2.retry2.stdout'), 'utf8')).toBe('200');
    expect(readFileSync(join(dir, 'outputs/verify/r2.retry3.stdout'), 'utf8')).toBe('201');
    expect(existsSync(join(dir, 'outputs/verify/r2.retry4.stdout'))).toBe(false);
  });
});

describe('outcome messages name the hosts they speak of (fleet.<group>)', () => {
  const fleetRunbook = `
name: t
summary: a hand-over naming what was seen
steps:
  - id: probe
    name: probe
    hosts: mps
    run: probe
    on_failure: continue
    capture:
      code: { regex: 'code=(\\d+)', as: integer, default: 0 }
  - id: diagnose
    name: diagnose
    decide:
      causes:
        - cause: none
          when: hosts('mps').all(m, m.status == "ok" && m.facts.code == 200)
      default: unknown
  - id: unknown
    name: unknown
    when: cause == "unknown"
    outcome:
      status: escalate
      message: >-
        {% capture seen -%}{%- for m in fleet.mps -%}
        {%- if m.status != "ok" %} {{ m.name }} ({{ m.status }});{%- elsif m.facts.code != 200 %} {{ m.name }} answered {{ m.facts.code }};{%- endif -%}
        {%- endfor -%}{%- endcapture -%}
        Not proven:{{ seen }} of {{ fleet.all | size }} hosts.
`;

  test('the failing hosts, their status and what they answered; the healthy ones are not named', async () => {
    const { plan, inventory } = planOf(fleetRunbook);
    const fleet = new FakeFleet()
      .on('probe', { stdout: 'code=502' }, { host: 'mp2' })
      .on('probe', 'unreachable', { host: 'mp4' })
      .on('probe', { stdout: 'code=200' });
    const ran = await runPlan(plan, inventory, fleet);
    expect(ran.result.exitCode).toBe(3);
    expect(ran.result.message).toBe('Not proven: mp2 answered 502; mp4 (unreachable); of 4 hosts.');
  });

  test('validate: fleet only in controller steps, never at plan time', () => {
    expect(checkRunbook(fleetRunbook)).toEqual([]);
    const onHost = fleetRunbook.replace('    run: probe\n', '    run: echo {{ fleet.mps | size }}\n');
    expect(checkRunbook(onHost)).toEqual([expect.stringMatching(/fleet\.<group> is for steps that run on the controller/)]);
  });
});
