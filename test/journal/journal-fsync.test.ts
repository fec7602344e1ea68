// The journal's durability contract, checked on the system calls themselves: opened for append
// ('a'), and every event's write is followed by an fsync of the same descriptor before write()
// returns. node:fs is wrapped (not replaced): the calls still happen.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { resolvedRun } from './fixtures.js';

const calls: { op: string; fd?: number; flags?: unknown }[] = [];

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    openSync: (...args: Parameters<typeof fs.openSync>) => {
      const fd = fs.openSync(...args);
      calls.push({ op: 'open', fd, flags: args[1] });
      return fd;
    },
    writeSync: (...args: Parameters<typeof fs.writeSync>) => {
      calls.push({ op: 'write', fd: args[0] as number });
      return (fs.writeSync as (...a: unknown[]) => number)(...args);
    },
    fsyncSync: (fd: number) => {
      calls.push({ op: 'fsync', fd });
      fs.fsyncSync(fd);
    },
    // The deferred fsync of durability 'mutations' runs on the thread pool.
    fsync: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      calls.push({ op: 'fsync-async', fd });
      fs.fsync(fd, cb);
    },
  };
});

const { JournalSink } = await import('../../src/journal/journal.js');
const dir = mkdtempSync(join(tmpdir(), 'remedy-fsync-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('JournalSink durability', () => {
  it('opens for append (a+) and fsyncs each event before write() returns', async () => {
    calls.length = 0;
    const sink = new JournalSink(dir);
    const open = calls.find((c) => c.op === 'open' && c.flags === 'a+');
    expect(open, 'journal opened with flag "a+" (O_APPEND)').toBeDefined();
    const fd = open!.fd;
    const events = resolvedRun().filter((e) => e.type !== 'host-output');
    for (const ev of events) {
      calls.length = 0;
      sink.write(ev);
      const mine = calls.filter((c) => c.fd === fd).map((c) => c.op);
      // One line is one write (the whole line), then an fsync; nothing after the fsync.
      expect(mine.at(-1)).toBe('fsync');
      expect(mine.filter((op) => op === 'write').length).toBeGreaterThanOrEqual(1);
      expect(mine.indexOf('write')).toBeLessThan(mine.lastIndexOf('fsync'));
    }
    await sink.close();
    expect(calls.some((c) => c.op === 'open' && c.flags !== 'a+' && c.fd === fd)).toBe(false);
  });

  it("durability 'mutations': read-only steps' events share one deferred fsync; mutations and run boundaries are fsync'd at once", async () => {
    const sub = join(dir, 'mutations');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(sub);
    const sink = new JournalSink(sub, null, { durability: 'mutations' });
    const events = resolvedRun().filter((e) => e.type !== 'host-output');
    const mutating = new Set(events.filter((e) => e.type === 'step-start' && e.mutates).map((e) => (e as { step: string }).step));
    let deferred = 0;
    for (const ev of events) {
      calls.length = 0;
      sink.write(ev);
      const synced = calls.some((c) => c.op === 'fsync');
      const ofReadOnlyStep =
        (ev.type === 'host-start' || ev.type === 'host-end' || ev.type === 'step-start' || ev.type === 'step-end') && !mutating.has(ev.step);
      if (ofReadOnlyStep) {
        expect(synced, `#${ev.seq} ${ev.type} ${ev.step}`).toBe(false);
        deferred++;
      } else expect(synced, `#${ev.seq} ${ev.type}`).toBe(true);
    }
    expect(deferred).toBeGreaterThan(3);
    expect(events.some((e) => e.type === 'step-start' && !e.mutates)).toBe(true);
    expect(events.some((e) => e.type === 'step-start' && e.mutates)).toBe(true);
    // The deferred fsync starts within 100 ms, on the thread pool, once for all of them.
    const readOnlyStart = events.find((e) => e.type === 'step-start' && !e.mutates)!;
    const readOnlyHost = events.find((e) => e.type === 'host-start' && !mutating.has(e.step))!;
    calls.length = 0;
    sink.write({ ...readOnlyStart, seq: 999 });
    sink.write({ ...readOnlyHost, seq: 1000 });
    expect(calls.some((c) => c.op.startsWith('fsync'))).toBe(false);
    await new Promise((r) => setImmediate(r));
    expect(
      calls.some((c) => c.op.startsWith('fsync')),
      'not at every event-loop turn',
    ).toBe(false);
    await vi.waitFor(() => expect(calls.filter((c) => c.op === 'fsync-async')).toHaveLength(1), { timeout: 5000, interval: 20 });
    expect(calls.filter((c) => c.op.startsWith('fsync'))).toHaveLength(1);
    // Written while that fsync runs: close() waits for it, then fsyncs the rest before closing.
    sink.write({ ...readOnlyHost, seq: 1001 });
    calls.length = 0;
    await sink.close();
    expect(calls.at(-1)?.op).toBe('fsync');
  });

  it("durability 'mutations': a mutating step's events are fsync'd at once, covering the read-only lines before them", async () => {
    const sub = join(dir, 'ordering');
    const { mkdirSync, readFileSync } = await import('node:fs');
    mkdirSync(sub);
    const sink = new JournalSink(sub, null, { durability: 'mutations' });
    const events = resolvedRun().filter((e) => e.type !== 'host-output');
    const firstMutating = events.findIndex((e) => e.type === 'step-start' && e.mutates);
    expect(firstMutating).toBeGreaterThan(1);
    for (const ev of events.slice(0, firstMutating)) sink.write(ev);
    calls.length = 0;
    sink.write(events[firstMutating]!);
    // One fsync at once, after the write of the mutating step-start: every earlier line is in it.
    expect(calls.map((c) => c.op).filter((op) => op !== 'open')).toEqual(['write', 'fsync']);
    await sink.close();
    expect(readFileSync(join(sub, 'journal.jsonl'), 'utf8').trim().split('\n')).toHaveLength(firstMutating + 1);
  });
});
