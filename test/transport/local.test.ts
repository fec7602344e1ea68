import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { shellQuote } from '../../src/shell/quote.js';
import { FetchError, LocalTransport } from '../../src/transport/index.js';
import { HOSTILE_VALUES, processGone, readPid, waitFor } from './support.js';

const work = mkdtempSync(join(tmpdir(), 'remedy-local-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const t = new LocalTransport('localhost', { killGraceMs: 400 });

describe('LocalTransport exec', () => {
  it('runs through /bin/sh with exit codes, signals and separate streams', async () => {
    expect(await t.exec('echo out; echo err >&2; exit 5')).toMatchObject({ exitCode: 5, signal: null, stdout: 'out\n', stderr: 'err\n', timedOut: false });
    expect(await t.exec('kill -TERM $$')).toMatchObject({ exitCode: null, signal: 'SIGTERM' });
    expect((await t.exec('echo $0')).stdout).toBe('/bin/sh\n');
  });

  it('feeds stdin, streams output and bounds the in-memory copy', async () => {
    expect((await t.exec('cat', { stdin: 'abc' })).stdout).toBe('abc');
    let streamed = 0;
    const r = await t.exec("head -c 3000000 /dev/zero | tr '\\0' x", { maxBufferBytes: 1000, onStdout: (c) => (streamed += c.length) });
    expect(streamed).toBe(3_000_000);
    expect(r.stdout.length).toBe(1000);
    expect(r.truncated).toBe(true);
  });

  it('kills the whole process group on timeout, escalating to KILL', async () => {
    const a = join(work, 'a.pid');
    const r = await t.exec(`sleep 300 & echo $! > ${a}; wait`, { timeoutMs: 300 });
    expect(r).toMatchObject({ timedOut: true, signal: 'SIGTERM' });
    expect(await waitFor(() => processGone(readPid(a)), 3000)).toBe(true);

    const b = join(work, 'b.pid');
    const r2 = await t.exec(`trap '' TERM; sleep 300 & echo $! > ${b}; wait; wait`, { timeoutMs: 300 });
    expect(r2).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
    expect(await waitFor(() => processGone(readPid(b)), 3000)).toBe(true);
  });

  it('kills on abort', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const p = join(work, 'abort.pid');
    const r = await t.exec(`sleep 300 & echo $! > ${p}; wait`, { signal: ac.signal });
    expect(r.aborted).toBe(true);
    expect(await waitFor(() => processGone(readPid(p)), 3000)).toBe(true);
  });

  it('never executes quoted hostile values', async () => {
    const canary = join(work, 'canary');
    for (const raw of HOSTILE_VALUES) {
      const v = raw.replaceAll('CANARY', canary);
      expect((await t.exec(`printf '%s' ${shellQuote(v)}`)).stdout).toBe(v);
    }
    expect(existsSync(canary)).toBe(false);
  });
});

describe('LocalTransport fetch', () => {
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

  it('copies with sha256 and size check', async () => {
    const data = randomBytes(2 * 1024 * 1024 + 3);
    const src = join(work, 'src.bin');
    writeFileSync(src, data);
    const dst = join(work, 'artifacts', 'localhost', 'src.bin');
    expect(await t.fetch(src, dst)).toEqual({ bytes: data.length, sha256: sha(data) });
    expect(readFileSync(dst).equals(data)).toBe(true);
    expect(statSync(dst).mode & 0o777).toBe(0o600);
  });

  it('copies an empty file and refuses a directory or a missing path', async () => {
    const empty = join(work, 'empty');
    writeFileSync(empty, '');
    expect(await t.fetch(empty, join(work, 'out-empty'))).toEqual({ bytes: 0, sha256: sha(Buffer.alloc(0)) });
    await expect(t.fetch(work, join(work, 'out-dir'))).rejects.toThrow(/not a regular file/);
    await expect(t.fetch(join(work, 'nope'), join(work, 'out-nope'))).rejects.toBeInstanceOf(FetchError);
    expect(existsSync(join(work, 'out-nope'))).toBe(false);
  });

  it('reads a file only the become user can read, through runuser (root only)', async () => {
    if (process.getuid?.() !== 0) throw new Error('this test needs root (runuser); run the suite as root as CI does');
    const dir = mkdtempSync(join(tmpdir(), 'remedy-local-nobody-'));
    try {
      chmodSync(dir, 0o755);
      const secret = join(dir, 'only-nobody.log');
      const data = randomBytes(100_000);
      writeFileSync(secret, data);
      chownSync(secret, 65534, 65534);
      chmodSync(secret, 0o400);
      const asRoot = new LocalTransport('localhost', { become: { always: false, method: 'runuser', user: 'root' } });
      const out = join(work, 'nobody.log');
      expect(await asRoot.fetch(secret, out, { readAs: 'nobody' })).toEqual({ bytes: data.length, sha256: sha(data) });
      // And the read really ran as nobody: a root-only file is refused.
      const rootOnly = join(dir, 'root-only');
      writeFileSync(rootOnly, 'x');
      chmodSync(rootOnly, 0o600);
      await expect(asRoot.fetch(rootOnly, join(work, 'root-only'), { readAs: 'nobody' })).rejects.toThrow(/Permission denied/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
