import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JournalSink, readJournal, summarizeJournal } from '../../src/journal/index.js';
import { Redactor } from '../../src/redact/redactor.js';
import { SECRET, interruptedRun, resolvedRun, seq, runStart } from './fixtures.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'remedy-journal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const lines = (path: string): string[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '');

describe('JournalSink', () => {
  it('writes one JSON line per event, on disk as soon as write() returns, and skips host-output', async () => {
    const sink = new JournalSink(dir);
    const events = resolvedRun();
    let expected = 0;
    for (const ev of events) {
      sink.write(ev);
      if (ev.type !== 'host-output') expected++;
      // Read through a separate descriptor: the line must already be in the file.
      const onDisk = lines(join(dir, 'journal.jsonl'));
      expect(onDisk).toHaveLength(expected);
      if (ev.type !== 'host-output') expect(JSON.parse(onDisk.at(-1) as string)).toEqual(ev);
    }
    await sink.close();
    expect(lines(join(dir, 'journal.jsonl')).some((l) => l.includes('"host-output"'))).toBe(false);
  });

  it('never rewrites: a second sink (resume) appends after the first one’s bytes', async () => {
    const first = new JournalSink(dir);
    const events = resolvedRun();
    for (const ev of events.slice(0, 5)) first.write(ev);
    await first.close();
    const before = readFileSync(join(dir, 'journal.jsonl'));
    const second = new JournalSink(dir);
    for (const ev of events.slice(5)) second.write(ev);
    await second.close();
    const after = readFileSync(join(dir, 'journal.jsonl'));
    expect(after.subarray(0, before.length).equals(before)).toBe(true);
    expect(readJournal(dir).events).toEqual(events.filter((e) => e.type !== 'host-output'));
  });

  it('redacts secrets before they reach the file', async () => {
    const sink = new JournalSink(dir, new Redactor([SECRET]));
    const [start] = seq([{ ...runStart(), params: { admin_password: SECRET } }]);
    sink.write(start!);
    sink.write(seq([{ type: 'warning', message: `login failed for admin:${SECRET}` }], 2)[0]!);
    await sink.close();
    const text = readFileSync(join(dir, 'journal.jsonl'), 'utf8');
    expect(text).not.toContain(SECRET);
    expect(text).toContain('********');
  });

  it('refuses writes after close (an event written then would be lost silently)', async () => {
    const sink = new JournalSink(dir);
    await sink.close();
    expect(() => sink.write(resolvedRun()[0]!)).toThrow(/after close/);
  });

  it('ends a partial line left by a killed controller before appending', async () => {
    const events = resolvedRun();
    const sink = new JournalSink(dir);
    for (const ev of events.slice(0, 3)) sink.write(ev);
    await sink.close();
    appendFileSync(join(dir, 'journal.jsonl'), '{"type":"host-end","step":"check_m');
    const resumed = new JournalSink(dir);
    resumed.write(events[3]!);
    await resumed.close();
    const read = readJournal(dir);
    expect(read.events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(read.problems).toHaveLength(1);
    expect(read.problems[0]!.line).toBe(4);
    expect(read.truncated).toBe(false); // the damaged line is no longer the last one
  });
});

describe('readJournal', () => {
  it('reads every complete event and reports a partial last line', () => {
    const events = resolvedRun().filter((e) => e.type !== 'host-output');
    const text = events.map((e) => JSON.stringify(e)).join('\n');
    // Cut the last line in the middle, as a SIGKILL during write would.
    writeFileSync(join(dir, 'journal.jsonl'), `${text.slice(0, text.length - 25)}`);
    const read = readJournal(dir);
    expect(read.events).toEqual(events.slice(0, -1));
    expect(read.truncated).toBe(true);
    expect(read.problems).toHaveLength(1);
    expect(read.problems[0]!.line).toBe(events.length);
    expect(read.problems[0]!.message).toMatch(/partial last line/);
  });

  it('keeps reading past a damaged line in the middle, and reports it', () => {
    const events = resolvedRun().slice(0, 4);
    const body = [JSON.stringify(events[0]), 'garbage{', JSON.stringify(events[1]), '[1,2]', JSON.stringify({ type: 'x' }), JSON.stringify(events[2])].join(
      '\n',
    );
    writeFileSync(join(dir, 'journal.jsonl'), `${body}\n`);
    const read = readJournal(dir);
    expect(read.events).toEqual([events[0], events[1], events[2]]);
    expect(read.problems.map((p) => p.line)).toEqual([2, 4, 5]);
    expect(read.truncated).toBe(false);
  });

  it('fails clearly when there is no journal', () => {
    expect(() => readJournal(join(dir, 'nope'))).toThrow(/cannot read the journal .*ENOENT/);
  });
});

describe('summarizeJournal', () => {
  it('gives per step and host the last status, facts, cause and outcome of a finished run', () => {
    const s = summarizeJournal(resolvedRun());
    expect(s.ended).toBe(true);
    expect(s.outcome).toBe('resolved');
    expect(s.cause).toBe('mp_heap_exhausted');
    expect(s.facts['mp-1']).toEqual({ mp_up: false, heap_pct: 97 });
    expect(s.unfinished).toEqual([]);
    expect(s.unfinishedSteps).toEqual([]);
    const restart = s.steps.find((st) => st.id === 'restart_mp')!;
    expect(restart.status).toBe('ok');
    expect(restart.mutates).toBe(true);
    expect(restart.hosts['mp-1']).toMatchObject({ status: 'ok', final: true, phase: 'verify', changed: true, durationMs: 2100 + 5300 + 800 });
    expect(restart.hosts['mp-2']).toMatchObject({ status: 'skipped', final: true });
    expect(s.approvals.restart_mp).toEqual({ hosts: ['mp-1'], sources: ['flag'] });
    expect(s.steps.map((st) => st.id)).toEqual(['check_mp', 'diagnose', 'restart_mp', 'edit_props', 'bundle', 'done']);
    expect(s.lastSeq).toBe(resolvedRun().length);
  });

  it('names what started without finishing when the controller was killed', () => {
    const s = summarizeJournal(interruptedRun());
    expect(s.ended).toBe(false);
    expect(s.outcome).toBeNull();
    expect(s.unfinished).toEqual([{ step: 'restart_mp', host: 'mp-1' }]);
    expect(s.unfinishedSteps).toEqual(['restart_mp']);
    expect(s.lastStep).toBe('restart_mp');
    expect(s.steps.find((st) => st.id === 'restart_mp')!.hosts['mp-1']!.status).toBe('started');
  });

  it('treats a resumed segment as a new run: its earlier run-end no longer stands', () => {
    const first = interruptedRun();
    const next = seq([{ ...runStart(), runId: 'r-2', resumedFrom: 'r-20261124T134501Z' }], first.length + 1);
    const s = summarizeJournal([
      ...first,
      ...seq([{ type: 'run-end', outcome: 'interrupted', cause: null, exitCode: 130, durationMs: 5 }], first.length + 1),
      ...next.map((e) => ({ ...e, seq: e.seq + 1 })),
    ]);
    expect(s.runIds).toEqual(['r-20261124T134501Z', 'r-2']);
    expect(s.ended).toBe(false);
    expect(s.outcome).toBeNull();
    expect(s.cause).toBe('mp_heap_exhausted');
  });
});
