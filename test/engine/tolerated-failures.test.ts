// A command that failed while the run went on past it (on_failure: continue) is never healthy
// evidence: the host's status is failed, the command's captures are unset (not defaulted), so
// conditions reading them are unknown, and no all-clear rests on them — also after a resume.
import { describe, expect, test } from 'vitest';
import { MemorySink } from '../../src/engine/emitter.js';
import { resumePointFromEvents } from '../../src/engine/resume-point.js';
import { FakeFleet, lastEnds, planOf, runPlan } from './helpers.js';

// The shape that used to read as healthy: a health code with a default of 0, a decision and an
// all-clear over it. When the check fails, `code` fell back to 0 and the run said nothing-to-do.
const runbook = `
name: t
summary: health code with a default
steps:
  - id: health
    name: read each MP's health code
    hosts: mps
    run: health
    on_failure: continue
    capture:
      code: { from: stdout, regex: '^code=(\\d+)$', as: integer, default: 0 }
      exit: exit_code
  - id: per_host
    name: a per-host step that reads the code
    hosts: mps
    when: facts.code == 0
    run: after
  - id: statuses
    name: a fleet condition over h.status
    hosts: mps
    when: hosts("mps").all(h, h.status == "ok")
    run: all-ok
  - id: diagnose
    name: decide
    decide:
      causes:
        - cause: unhealthy
          when: hosts("mps").exists(h, h.facts.code != 0)
      default: none
  - id: fine
    name: all clear
    when: cause == "none"
    outcome:
      status: nothing-to-do
      require: hosts("mps").all(h, h.facts.code == 0)
      message: every MP reports code 0
  - id: hand_over
    name: hand over
    outcome: { status: escalate, message: an MP reports a bad code }
`;

function fleet(): FakeFleet {
  return new FakeFleet()
    .on('health', { exitCode: 7, stdout: 'curl: connection refused' }, { host: 'mp2' })
    .on('health', { timedOut: true }, { host: 'mp3' })
    .on('health', { stdout: 'code=0' });
}

describe('a command that failed under on_failure: continue', () => {
  test('its host is failed, its captures are unset (the exit code kept), its conditions are unknown, the all-clear is refused', async () => {
    const { plan, inventory } = planOf(runbook);
    const f = fleet();
    const ran = await runPlan(plan, inventory, f);
    // Captures: unset where the command failed, never the default; the exit code is what the host returned.
    const ends = lastEnds(ran, 'health');
    expect(ends.get('mp1')?.facts).toEqual({ code: 0, exit: 0 });
    expect(ends.get('mp2')?.facts).toEqual({ exit: 7 });
    expect(ends.get('mp2')?.unsetFacts).toEqual(['code']);
    expect(ends.get('mp3')?.facts).toBeUndefined();
    expect(ends.get('mp3')?.unsetFacts).toEqual(['code', 'exit']);
    expect(ran.result.facts.mp2).toEqual({ exit: 7 });
    expect(ran.result.facts.mp3 ?? {}).toEqual({});
    expect(ran.of('warning').some((w) => w.host === 'mp2' && /exited 7: code left unset \(a failed command gives no facts\)/.test(w.message))).toBe(true);
    // A per-host condition over an unset fact cannot be evaluated: the host is skipped, not run.
    expect(f.commands('mp2')).toEqual(['health']);
    expect(f.commands('mp3')).toEqual(['health']);
    expect(f.commands('mp1')).toContain('after');
    // h.status says failed, so a fleet condition over statuses is false.
    expect(f.commands().filter((c) => c === 'all-ok')).toEqual([]);
    expect(ran.of('step-end').find((s) => s.step === 'health')).toMatchObject({ status: 'partial', tolerated: ['mp2', 'mp3'] });
    // The default cause came because the condition could not be read on mp2/mp3; the all-clear is not claimed.
    expect(ran.result.cause).toBe('none');
    expect(ran.result).toMatchObject({ outcome: 'escalated', exitCode: 3, hosts: { mp1: 'ok', mp2: 'failed', mp3: 'failed', mp4: 'ok' } });
    expect(ran.result.message).toMatch(/cannot claim "nothing-to-do"/);
    expect(ran.result.message).not.toMatch(/every MP reports code 0/);
    expect(ran.of('run-end')[0]).toMatchObject({ outcome: 'escalated', hosts: { mp2: 'failed', mp3: 'failed' } });
  });

  test('an earlier value of the same fact does not survive the failed command', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: stale fact
steps:
  - id: first
    name: first read
    hosts: mp1
    run: first
    capture:
      state: stdout
  - id: second
    name: second read
    hosts: mp1
    run: second
    on_failure: continue
    capture:
      state: stdout
  - id: use
    name: use it
    hosts: mp1
    when: facts.state == "good"
    run: use
`);
    const f = new FakeFleet().on('first', { stdout: 'good' }).on('second', { exitCode: 1, stdout: 'good' });
    const ran = await runPlan(plan, inventory, f);
    expect(f.commands('mp1')).toEqual(['first', 'second']);
    expect(ran.result.facts.mp1).toEqual({});
    expect(ran.result.hosts.mp1).toBe('failed');
  });

  test('without an outcome step the run does not end resolved or nothing-to-do: it escalates naming host and step', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: no outcome
steps:
  - id: check
    name: check
    hosts: mps
    run: check
    on_failure: continue
  - id: fix
    name: fix
    hosts: mps
    run: fix
    mutates: true
`);
    const ran = await runPlan(plan, inventory, new FakeFleet().on('check', { exitCode: 1 }, { host: 'mp4' }));
    expect(ran.result).toMatchObject({ outcome: 'escalated', exitCode: 3, hosts: { mp1: 'ok', mp4: 'failed' } });
    expect(ran.result.message).toBe(
      'Steps failed on mp4 (check) and the run went on past them: what they would have shown was not seen, so this run cannot say those hosts are fine',
    );
  });

  test('a resolved outcome step is downgraded to escalated, keeping its own message first', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: outcome without require
steps:
  - id: check
    name: check
    hosts: mps
    run: check
    on_failure: continue
  - id: done
    name: done
    outcome: { status: resolved, message: all done }
`);
    const ran = await runPlan(plan, inventory, new FakeFleet().on('check', { exitCode: 1 }, { host: 'mp1' }));
    expect(ran.result.outcome).toBe('escalated');
    expect(ran.result.message).toMatch(/^all done; but steps failed on mp1 \(check\)/);
  });

  test('a later visit of the step that succeeds on the host clears it (goto loop)', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: retry loop
steps:
  - id: check
    name: check
    hosts: mp1
    run: check
    on_failure: continue
  - id: again
    name: go round once more while the check failed
    hosts: mp1
    when: host.name in steps.check.failed
    run: wait-a-bit
    on_failure: { goto: check }
    mutates: false
  - id: done
    name: done
    when: steps.check.status == "ok"
    outcome: { status: nothing-to-do, require: 'hosts("mp1").all(h, h.status == "ok")', message: checked }
`);
    // The first check fails; `again` fails too and loops back; the second check passes.
    const f = new FakeFleet().on('check', { exitCode: 1 }, { times: 1 }).on('check', {}).on('wait-a-bit', { exitCode: 1 });
    const ran = await runPlan(plan, inventory, f);
    expect(f.commands('mp1')).toEqual(['check', 'wait-a-bit', 'check']);
    expect(ran.result).toMatchObject({ outcome: 'nothing-to-do', exitCode: 0, message: 'checked', hosts: { mp1: 'ok' } });
  });

  test('resume keeps the failed status and the unset facts of the earlier segment', async () => {
    const { plan, inventory } = planOf(runbook);
    const sink = new MemorySink();
    await runPlan(plan, inventory, fleet(), { sink });
    // The controller died right after the health step.
    const cut = sink.events.findIndex((ev) => ev.type === 'step-end' && ev.step === 'health') + 1;
    const point = resumePointFromEvents(plan, sink.events.slice(0, cut), { retryFailed: false });
    expect(point.facts.mp2).toEqual({ exit: 7 });
    expect(point.ledger?.tolerated).toEqual({ mp2: ['health'], mp3: ['health'] });
    const f = fleet();
    const resumed = await runPlan(plan, inventory, f, { resume: point, runId: point.runId });
    expect(f.commands().filter((c) => c === 'health')).toEqual([]);
    expect(resumed.result).toMatchObject({ outcome: 'escalated', exitCode: 3, hosts: { mp2: 'failed', mp3: 'failed' } });
  });
});
