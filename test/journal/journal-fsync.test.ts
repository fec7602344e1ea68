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

  it("durability 'mutations': read-only host events share one deferred fsync; mutations and boundaries are fsync'd at once", async () => {
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
      const readOnlyHost = (ev.type === 'host-start' || ev.type === 'host-end') && !mutating.has(ev.step);
      if (readOnlyHost) {
        expect(synced, `#${ev.seq} ${ev.type} ${ev.step}`).toBe(false);
        deferred++;
      } else expect(synced, `#${ev.seq} ${ev.type}`).toBe(true);
    }
    expect(deferred).toBeGreaterThan(3);
    // The deferred fsync happens on the next turn of the event loop.
    calls.length = 0;
    sink.write({ ...events[1]!, seq: 999 });
    expect(calls.some((c) => c.op === 'fsync')).toBe(true); // step-start: at once
    calls.length = 0;
    sink.write({ ...events[2]!, seq: 1000 }); // host-start of a read-only step
    expect(calls.some((c) => c.op === 'fsync')).toBe(false);
    await new Promise((r) => setImmediate(r));
    expect(calls.some((c) => c.op === 'fsync')).toBe(true);
    await sink.close();
  });
});
