// Resume from a journal cut at every possible point (a controller killed between any two
// events): no mutating step runs twice on a host, facts and the cause come back, the run ends
// as an uninterrupted run would.
import { describe, expect, test } from 'vitest';
import { MemorySink } from '../../src/engine/emitter.js';
import type { RunEvent } from '../../src/engine/events.js';
import { resumePointFromEvents } from '../../src/engine/resume-point.js';
import { RefusedError } from '../../src/errors.js';
import { FakeFleet, planOf, runPlan } from './helpers.js';

const runbook = `
name: t
summary: diagnose, append a line on every host, verify
steps:
  - id: look
    name: look
    hosts: mps
    run: look
    capture:
      level: { as: integer }
  - id: diagnose
    name: decide
    decide:
      causes:
        - cause: high
          when: hosts("mps").exists(h, h.facts.level > 5)
      default: none
  - id: append
    name: append the line
    hosts: mps
    when: cause == "high"
    serial: 2
    run: append-line
    mutates: true
    verify:
      run: verify-line
  - id: again
    name: a second mutation, without verify
    hosts: mp1
    run: second-mutation
    mutates: true
  - id: done
    name: done
    outcome: { status: resolved, message: appended }
`;

/** A fleet whose hosts count the lines appended; every call notes how many events preceded it. */
function countingFleet(sink: MemorySink | null, lines: Map<string, number>, seconds: Map<string, number>): FakeFleet {
  return new FakeFleet()
    .on('look', (c) => ({ stdout: c.host === 'mp3' ? '9' : '1' }))
    .on('append-line', (c) => {
      (c as { events?: number }).events = sink?.events.length;
      lines.set(c.host, (lines.get(c.host) ?? 0) + 1);
      return {};
    })
    .on('verify-line', (c) => ({ exitCode: (lines.get(c.host) ?? 0) >= 1 ? 0 : 1 }))
    .on('second-mutation', (c) => {
      (c as { events?: number }).events = sink?.events.length;
      seconds.set(c.host, (seconds.get(c.host) ?? 0) + 1);
      return {};
    });
}

describe('resume after the controller was killed at any point', () => {
  test('for every cut of the journal, resuming appends each line exactly once and ends resolved', async () => {
    const { plan, inventory } = planOf(runbook);
    const sink = new MemorySink();
    const lines = new Map<string, number>();
    const seconds = new Map<string, number>();
    const fleet = countingFleet(sink, lines, seconds);
    const full = await runPlan(plan, inventory, fleet, { sink });
    expect(full.result.outcome).toBe('resolved');
    const events = sink.events;
    const mutationCalls = fleet.calls.filter((c) => c.command === 'append-line' || c.command === 'second-mutation') as ((typeof fleet.calls)[number] & {
      events: number;
    })[];
    const runEnd = events.findIndex((e) => e.type === 'run-end');
    let resumedWithWarnings = 0;
    for (let cut = 1; cut < runEnd; cut++) {
      const journal = events.slice(0, cut);
      // What the hosts look like when the controller died: every mutation called before the cut
      // happened (a command started just before a kill is the worst case: it did its work).
      const hostLines = new Map<string, number>();
      const hostSeconds = new Map<string, number>();
      for (const c of mutationCalls) {
        if (c.events > cut) continue;
        const m = c.command === 'append-line' ? hostLines : hostSeconds;
        m.set(c.host, (m.get(c.host) ?? 0) + 1);
      }
      const point = resumePointFromEvents(plan, journal, { retryFailed: false });
      // The locks the killed controller left on the hosts: taken, never released.
      const resumedFleet = countingFleet(null, hostLines, hostSeconds);
      for (const ev of journal) {
        if (ev.type !== 'lock') continue;
        if (ev.action === 'released') resumedFleet.locks.delete(ev.host);
        else resumedFleet.locks.set(ev.host, JSON.stringify({ runId: 'run-1', controller: 'me', pid: 1, time: 'then' }));
      }
      const resumed = await runPlan(plan, inventory, resumedFleet, { resume: point, runId: point.runId });
      const where = `cut after event ${cut} (${journal.at(-1)?.type} ${(journal.at(-1) as { step?: string }).step ?? ''})`;
      expect(resumed.result.outcome, where).toBe('resolved');
      // The ending is the outcome step's own, whether it ran in this segment or in the one cut short.
      expect(resumed.result.message, where).toBe('appended');
      // Every lock of the run is released when the resumed segment ends, also those of hosts it never locked itself.
      expect([...resumedFleet.locks.keys()], where).toEqual([]);
      expect(
        [...hostLines].filter(([, n]) => n !== 1),
        where,
      ).toEqual([]);
      expect(hostLines.get('mp3'), where).toBe(1);
      expect(resumed.result.cause, where).toBe('high');
      // A mutation without verify that started and was not recorded as finished is re-run, with a warning.
      const started = journal.some((e) => e.type === 'host-start' && e.step === 'again');
      const finished = journal.some((e) => e.type === 'host-end' && e.step === 'again' && e.final);
      expect(hostSeconds.get('mp1'), where).toBe(started && !finished ? 2 : 1);
      if (started && !finished)
        expect(
          resumed.of('warning').some((w) => /has no verify check: running it again/.test(w.message)),
          where,
        ).toBe(true);
      if (resumed.of('warning').some((w) => /verify check passes, so it is not run again/.test(w.message))) resumedWithWarnings++;
      // The resumed segment continues the journal's numbering and names what it resumes.
      const start = resumed.of('run-start')[0];
      expect(start?.seq).toBe((journal.at(-1) as RunEvent).seq + 1);
      expect(start?.resumedFrom).toBe(events[0]?.time);
      expect(start?.runId).toBe('run-1');
    }
    // Some cuts fell between a mutation and its record: those were re-checked, not re-run.
    expect(resumedWithWarnings).toBeGreaterThan(0);
  });

  test('facts and the cause are restored, completed steps are not re-run', async () => {
    const { plan, inventory } = planOf(runbook);
    const sink = new MemorySink();
    await runPlan(plan, inventory, countingFleet(sink, new Map(), new Map()), { sink });
    const cut = sink.events.findIndex((e) => e.type === 'step-start' && e.step === 'again');
    const point = resumePointFromEvents(plan, sink.events.slice(0, cut), { retryFailed: false });
    expect(point.facts.mp3).toEqual({ level: 9 });
    expect(point.cause).toBe('high');
    const fleet = countingFleet(
      null,
      new Map([
        ['mp3', 1],
        ['mp1', 1],
        ['mp2', 1],
        ['mp4', 1],
      ]),
      new Map(),
    );
    const resumed = await runPlan(plan, inventory, fleet, { resume: point });
    expect(fleet.commands()).toEqual(['second-mutation']);
    expect(resumed.result.outcome).toBe('resolved');
  });
});

describe('resume between a change and its verification', () => {
  test('the host changed in the earlier segment is still changed after the resumed re-check (steps.<id>.changed)', async () => {
    const rb = runbook.replace(
      'outcome: { status: resolved, message: appended }',
      `outcome: { status: resolved, message: "appended on {{ steps.append.changed | join: ',' }}" }`,
    );
    const { plan, inventory } = planOf(rb);
    const sink = new MemorySink();
    const lines = new Map<string, number>();
    const full = await runPlan(plan, inventory, countingFleet(sink, lines, new Map()), { sink });
    expect(full.result.message).toBe('appended on mp1,mp2,mp3,mp4');
    // The controller died right after mp3's append said "changed", before its verification ended.
    const cut = sink.events.findIndex((ev) => ev.type === 'host-end' && ev.step === 'append' && ev.host === 'mp3' && ev.status === 'changed') + 1;
    expect(cut).toBeGreaterThan(0);
    const journal = sink.events.slice(0, cut);
    const done = new Map(
      [...lines].filter(([h]) => journal.some((ev) => ev.type === 'host-end' && ev.step === 'append' && ev.host === h && ev.status === 'changed')),
    );
    const point = resumePointFromEvents(plan, journal, { retryFailed: false });
    const resumed = await runPlan(plan, inventory, countingFleet(null, done, new Map()), { resume: point, runId: point.runId });
    expect(resumed.of('warning').some((w) => w.host === 'mp3' && /verify check passes, so it is not run again/.test(w.message))).toBe(true);
    expect(resumed.result).toMatchObject({ outcome: 'resolved', message: 'appended on mp1,mp2,mp3,mp4' });
  });
});

describe('resume after the outcome step was reached', () => {
  // A fix that changed something, then an outcome that is not "resolved": only the outcome step
  // knows how the run ends, so resume must not fall back to "something changed, so resolved".
  const escalating = (status: string) => `
name: t
summary: change, then hand over
steps:
  - id: act
    name: act
    hosts: mp1
    run: act
    mutates: true
  - id: done
    name: hand over
    outcome: { status: ${status}, message: "handed over after {{ steps.act.changed | join: ', ' }}" }
`;
  test.each([
    ['escalate', 'escalated', 3],
    ['nothing-to-do', 'nothing-to-do', 0],
  ])('a cut between the outcome (%s) and run-end resumes to that outcome, not to the changed→resolved fallback', async (status, outcome, code) => {
    const { plan, inventory } = planOf(escalating(status));
    const sink = new MemorySink();
    const full = await runPlan(plan, inventory, new FakeFleet(), { sink });
    expect(full.result).toMatchObject({ outcome, exitCode: code, message: 'handed over after mp1' });
    const runEnd = sink.events.findIndex((e) => e.type === 'run-end');
    const afterOutcome = sink.events.findIndex((e) => e.type === 'outcome');
    expect(afterOutcome).toBeGreaterThan(0);
    for (let cut = afterOutcome + 1; cut <= runEnd; cut++) {
      const point = resumePointFromEvents(plan, sink.events.slice(0, cut), { retryFailed: false });
      const fleet = new FakeFleet();
      const resumed = await runPlan(plan, inventory, fleet, { resume: point, runId: point.runId });
      const where = `cut after event ${cut} (${sink.events[cut - 1]?.type})`;
      expect(resumed.result, where).toMatchObject({ outcome, exitCode: code, message: 'handed over after mp1' });
      expect(resumed.of('run-end')[0], where).toMatchObject({ outcome, exitCode: code });
      // Nothing ran again on the host.
      expect(fleet.commands(), where).toEqual([]);
    }
  });
});

describe('resume refusals and --retry-failed', () => {
  const failing = `
name: t
summary: a fix failing on one host
steps:
  - id: fix
    name: fix
    hosts: mp1,mp2
    run: fix
    mutates: true
  - id: after
    name: after
    hosts: mp1,mp2
    run: after
`;
  test('a failed run resumes only with --retry-failed, which re-runs only the failed host', async () => {
    const { plan, inventory } = planOf(failing);
    const sink = new MemorySink();
    const first = await runPlan(plan, inventory, new FakeFleet().on('fix', { exitCode: 1 }, { host: 'mp2' }), { sink });
    expect(first.result.outcome).toBe('failed');
    expect(() => resumePointFromEvents(plan, sink.events, { retryFailed: false })).toThrow(/--retry-failed/);
    const point = resumePointFromEvents(plan, sink.events, { retryFailed: true });
    const fleet = new FakeFleet();
    const resumed = await runPlan(plan, inventory, fleet, { resume: point });
    expect(fleet.commands('mp1')).toEqual(['after']);
    expect(fleet.commands('mp2')).toEqual(['fix', 'after']);
    expect(resumed.result).toMatchObject({ outcome: 'resolved', hosts: { mp1: 'ok', mp2: 'ok' } });
  });

  test('a refused run (no --yes) resumes at the refused step; its earlier diagnosis is not re-run', async () => {
    const { plan, inventory } = planOf(runbook);
    const sink = new MemorySink();
    const first = await runPlan(plan, inventory, countingFleet(null, new Map(), new Map()), { sink, yes: false });
    expect(first.result.outcome).toBe('refused');
    const point = resumePointFromEvents(plan, sink.events, { retryFailed: false });
    const lines = new Map<string, number>();
    const fleet = countingFleet(null, lines, new Map());
    const resumed = await runPlan(plan, inventory, fleet, { resume: point, yes: true });
    expect(fleet.commands().filter((c) => c === 'look')).toEqual([]);
    expect(lines.get('mp3')).toBe(1);
    expect(resumed.result.outcome).toBe('resolved');
  });

  test('a finished run is not resumed; a changed plan is refused', async () => {
    const { plan, inventory } = planOf(runbook);
    const sink = new MemorySink();
    await runPlan(plan, inventory, countingFleet(null, new Map(), new Map()), { sink });
    expect(() => resumePointFromEvents(plan, sink.events, { retryFailed: false })).toThrow(/already ended \(resolved\)/);
    const other = planOf(runbook.replace('append-line', 'append-another-line'));
    expect(() => resumePointFromEvents(other.plan, sink.events.slice(0, 5), { retryFailed: false })).toThrow(RefusedError);
  });
});

describe('resume after an interrupted rollback', () => {
  test('the failed host stays failed and out of the run; the others go on', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: rollback cut short
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
`);
    const sink = new MemorySink();
    await runPlan(plan, inventory, new FakeFleet().on('fix', { exitCode: 1 }, { host: 'mp2' }), { sink });
    const cut = sink.events.findIndex((e) => e.type === 'step-start' && e.step === 'undo') + 1;
    const point = resumePointFromEvents(plan, sink.events.slice(0, cut), { retryFailed: false });
    expect(point.warnings[0]).toMatch(/rollback of step fix was interrupted/);
    const fleet = new FakeFleet();
    const resumed = await runPlan(plan, inventory, fleet, { resume: point });
    expect(fleet.commands('mp1')).toEqual(['later']);
    expect(fleet.commands('mp2')).toEqual([]);
    expect(resumed.result).toMatchObject({ outcome: 'failed', hosts: { mp1: 'ok', mp2: 'failed' } });
  });
});
