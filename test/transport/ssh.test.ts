// SshTransport against the in-process ssh2 server: every behaviour that does not need OpenSSH
// itself (ssh.e2e.test.ts repeats the important ones against a real sshd).
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utils } from 'ssh2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, UnreachableError } from '../../src/errors.js';
import { shellJoin, shellQuote } from '../../src/shell/quote.js';
import { FetchError, formatKnownHostsLine, knownHostsName, sha256Fingerprint, TransportPool, type TransportPoolOptions } from '../../src/transport/index.js';
import { generateUserKey, startSshServer, type TestSshServer } from '../helpers/ssh-server.js';
import { freePort } from '../helpers/sshd.js';
import { HOSTILE_VALUES, makeHost, makeInventory, processGone, readPid, waitFor } from './support.js';

const work = mkdtempSync(join(tmpdir(), 'remedy-ssh-test-'));
let srv: TestSshServer;
const pools: TransportPool[] = [];

function poolFor(s: TestSshServer, extra: TransportPoolOptions = {}): TransportPool {
  const p = new TransportPool({ knownHostsFiles: [s.knownHostsFile], agent: false, sshConfigFile: false, killGraceMs: 500, ...extra });
  pools.push(p);
  return p;
}

beforeAll(async () => {
  srv = await startSshServer({ maxSessions: 10 });
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.closeAll()));
});
afterAll(async () => {
  await srv.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('exec', () => {
  it('returns exit codes and separate stdout/stderr, without remedy markers', async () => {
    const t = poolFor(srv).get(makeHost('h', srv.connectionFor()));
    const r = await t.exec('echo out; echo err >&2; exit 3');
    expect(r).toMatchObject({ exitCode: 3, signal: null, stdout: 'out\n', stderr: 'err\n', timedOut: false, truncated: false });
    expect((await t.exec('true')).exitCode).toBe(0);
  });

  it('reports death by signal with a null exit code', async () => {
    const t = poolFor(srv).get(makeHost('h', srv.connectionFor()));
    expect(await t.exec('kill -TERM $$')).toMatchObject({ exitCode: null, signal: 'SIGTERM', timedOut: false });
    expect(await t.exec('kill -KILL $$')).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
  });

  it('reuses one connection for every command', async () => {
    const before = srv.stats.connections;
    const t = poolFor(srv).get(makeHost('h', srv.connectionFor()));
    for (let i = 0; i < 5; i++) expect((await t.exec(`echo ${i}`)).stdout).toBe(`${i}\n`);
    expect(srv.stats.connections - before).toBe(1);
  });

  it('writes stdin then closes it, so readers see EOF', async () => {
    const t = poolFor(srv).get(makeHost('h', srv.connectionFor()));
    expect((await t.exec('cat', { stdin: 'line1\nline2' })).stdout).toBe('line1\nline2');
    const r = await t.exec('cat; echo eof', { timeoutMs: 5000 });
    expect(r).toMatchObject({ stdout: 'eof\n', timedOut: false });
  });

  it('drains large stdout and stderr together, streaming all of it and keeping a bounded copy', async () => {
    const t = poolFor(srv).get(makeHost('h', srv.connectionFor()));
    let out = 0;
    let err = 0;
    const r = await t.exec("head -c 8000000 /dev/zero | tr '\\0' e >&2 & head -c 12000000 /dev/zero | tr '\\0' o; wait", {
      maxBufferBytes: 1024 * 1024,
      onStdout: (c) => (out += c.length),
      onStderr: (c) => (err += c.length),
      timeoutMs: 60_000,
    });
    expect(r.exitCode).toBe(0);
    expect(out).toBe(12_000_000);
    expect(err).toBe(8_000_000);
    expect(r.stdout.length).toBe(1024 * 1024);
    expect(r.stderr.length).toBe(1024 * 1024);
    expect(r.stdout).toMatch(/^o+$/);
    expect(r.truncated).toBe(true);
  }, 60_000);

  it('removes the sudo password prompt marker from stderr', async () => {
    const t = poolFor(srv).get(makeHost('h', srv.connectionFor()));
    const r = await t.exec(`printf '%s' '[remedy-sudo-password]' >&2; echo done >&2`);
    expect(r.stderr).toBe('done\n');
  });

  it('never executes hostile values that were quoted', async () => {
    const canary = join(work, 'canary');
    const t = poolFor(srv).get(makeHost('h', srv.connectionFor()));
    for (const raw of HOSTILE_VALUES) {
      const v = raw.replaceAll('CANARY', canary);
      const direct = await t.exec(`printf '%s' ${shellQuote(v)}`);
      expect(direct.stdout).toBe(v);
      // Nested: the value quoted into an inner sh -c script, that script quoted again.
      const nested = await t.exec(shellJoin(['sh', '-c', `printf '%s' ${shellQuote(v)}`]));
      expect(nested.stdout).toBe(v);
    }
    expect(existsSync(canary)).toBe(false);
  });
});

describe('timeouts and aborts kill the remote process group', () => {
  it('kills the command and its background children on timeout', async () => {
    const t = poolFor(srv).get(makeHost('h', srv.connectionFor()));
    const a = join(work, 'to-shell.pid');
    const b = join(work, 'to-sleep.pid');
    const r = await t.exec(`echo $$ > ${a}; sleep 300 & echo $! > ${b}; wait`, { timeoutMs: 400 });
    expect(r).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGTERM' });
    expect(r.durationMs).toBeLessThan(5000);
    expect(await waitFor(() => processGone(readPid(a)) && processGone(readPid(b)), 3000)).toBe(true);
  });

  it('escalates to KILL when the group ignores TERM', async () => {
    const t = poolFor(srv).get(makeHost('h', srv.connectionFor()));
    const b = join(work, 'stubborn.pid');
    const r = await t.exec(`trap '' TERM; sleep 300 & echo $! > ${b}; wait; wait`, { timeoutMs: 300 });
    expect(r).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
    expect(r.durationMs).toBeGreaterThanOrEqual(300 + 500 - 50);
    expect(await waitFor(() => processGone(readPid(b)), 3000)).toBe(true);
  });

  it('kills on abort and reports aborted', async () => {
    const t = poolFor(srv).get(makeHost('h', srv.connectionFor()));
    const b = join(work, 'abort.pid');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const r = await t.exec(`sleep 300 & echo $! > ${b}; wait`, { signal: ac.signal });
    expect(r).toMatchObject({ aborted: true, timedOut: false, signal: 'SIGTERM' });
    expect(await waitFor(() => processGone(readPid(b)), 3000)).toBe(true);
  });

  it('does not start a command whose signal is already aborted', async () => {
    const t = poolFor(srv).get(makeHost('h', srv.connectionFor()));
    const marker = join(work, 'never-run');
    const r = await t.exec(`touch ${marker}`, { signal: AbortSignal.abort() });
    expect(r).toMatchObject({ aborted: true, exitCode: null });
    expect(existsSync(marker)).toBe(false);
  });

  it('uses setsid when the server does not give the command its own session', async () => {
    const plain = await startSshServer({ groupLeader: false });
    try {
      const t = poolFor(plain).get(makeHost('h', plain.connectionFor()));
      const ok = await t.exec('echo fine; exit 4');
      expect(ok).toMatchObject({ exitCode: 4, stdout: 'fine\n', stderr: '' });
      const b = join(work, 'setsid.pid');
      const r = await t.exec(`sleep 300 & echo $! > ${b}; wait`, { timeoutMs: 400 });
      expect(r.timedOut).toBe(true);
      expect(await waitFor(() => processGone(readPid(b)), 3000)).toBe(true);
    } finally {
      await plain.stop();
    }
  });
});

describe('channel limit', () => {
  it('runs 20 parallel commands on one host through at most 8 channels', async () => {
    const s = await startSshServer({ maxSessions: 10 });
    try {
      const t = poolFor(s).get(makeHost('h', s.connectionFor()));
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => t.exec(`sleep 0.2; echo ${i}`)));
      results.forEach((r, i) => expect(r).toMatchObject({ exitCode: 0, stdout: `${i}\n` }));
      expect(s.stats.maxConcurrentSessions).toBe(8);
      expect(s.stats.sessionsRejected).toBe(0);
      expect(s.stats.connections).toBe(1);
    } finally {
      await s.stop();
    }
  });

  it('waits for a free channel when the server allows fewer sessions than the cap', async () => {
    const s = await startSshServer({ maxSessions: 3 });
    try {
      const t = poolFor(s).get(makeHost('h', s.connectionFor()));
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => t.exec(`sleep 0.1; echo ${i}`)));
      results.forEach((r, i) => expect(r).toMatchObject({ exitCode: 0, stdout: `${i}\n` }));
      expect(s.stats.sessionsRejected).toBeGreaterThan(0);
      expect(s.stats.maxConcurrentSessions).toBe(3);
    } finally {
      await s.stop();
    }
  });
});

describe('unreachable hosts', () => {
  it('reports connection refused as UnreachableError with host and address', async () => {
    const port = await freePort();
    const t = poolFor(srv).get(makeHost('dead-host', srv.connectionFor({ port })));
    const err = await t.exec('true').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnreachableError);
    expect((err as UnreachableError).exitCode).toBe(EXIT.unreachable);
    expect((err as UnreachableError).host).toBe('dead-host');
    expect((err as Error).message).toMatch(new RegExp(`^dead-host: cannot connect to .*@127\\.0\\.0\\.1:${port}: connection refused`));
  });

  it('gives up on a server that accepts TCP but never speaks SSH (connect timeout)', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as AddressInfo).port;
    try {
      const started = Date.now();
      const err = await poolFor(srv, { connectTimeoutMs: 300 })
        .get(makeHost('mute', srv.connectionFor({ port })))
        .exec('true')
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnreachableError);
      expect((err as Error).message).toMatch(/^mute: cannot connect to .*: no SSH handshake within 0.3 s/);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      silent.close();
    }
  });

  it('detects a frozen server through keepalives in bounded time', async () => {
    const s = await startSshServer();
    try {
      const t = poolFor(s, { keepalive: { intervalMs: 200, countMax: 2 } }).get(makeHost('frozen', s.connectionFor()));
      expect((await t.exec('echo up')).stdout).toBe('up\n');
      s.freeze();
      const started = Date.now();
      const err = await t.exec('echo x').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnreachableError);
      expect((err as Error).message).toMatch(/Keepalive timeout/);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await s.stop();
    }
  });

  it('fails a running command with UnreachableError when the connection drops, then reconnects', async () => {
    const s = await startSshServer();
    try {
      const t = poolFor(s).get(makeHost('flaky', s.connectionFor()));
      const running = t.exec('sleep 5');
      await new Promise((r) => setTimeout(r, 300));
      s.dropConnections();
      const err = await running.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnreachableError);
      expect((err as Error).message).toMatch(/^flaky: connection lost/);
      expect((await t.exec('echo again')).stdout).toBe('again\n');
      expect(s.stats.connections).toBe(2);
    } finally {
      await s.stop();
    }
  });
});

describe('host keys', () => {
  const khFile = (name: string, text: string) => {
    const f = join(work, name);
    writeFileSync(f, text);
    return f;
  };
  const otherKey = () => {
    const k = utils.parseKey(generateUserKey().public);
    if (k instanceof Error) throw k;
    return k.getPublicSSH();
  };

  it('refuses an unknown host with its SHA256 fingerprint and records nothing', async () => {
    const f = khFile('kh-empty', '');
    const t = poolFor(srv, { knownHostsFiles: [f] }).get(makeHost('newbie', srv.connectionFor()));
    const err = await t.exec('true').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnreachableError);
    expect((err as Error).message).toContain(srv.hostKeyFingerprint);
    expect((err as Error).message).toContain('is not known');
    expect(readFileSync(f, 'utf8')).toBe('');
  });

  it('accepts and records an unknown host with acceptNewHostKeys, then knows it', async () => {
    const f = khFile('kh-accept', '');
    const notices: string[] = [];
    const t = poolFor(srv, { knownHostsFiles: [f], acceptNewHostKeys: true, onNotice: (m) => notices.push(m) }).get(makeHost('newbie', srv.connectionFor()));
    expect((await t.exec('echo ok')).stdout).toBe('ok\n');
    expect(readFileSync(f, 'utf8')).toBe(`${srv.knownHostsLine}\n`);
    expect(notices.join('\n')).toContain(srv.hostKeyFingerprint);
    const again = poolFor(srv, { knownHostsFiles: [f] }).get(makeHost('newbie', srv.connectionFor()));
    expect((await again.exec('echo ok')).exitCode).toBe(0);
  });

  it('refuses a changed key with both fingerprints, even with acceptNewHostKeys', async () => {
    const old = otherKey();
    const f = khFile('kh-changed', `${formatKnownHostsLine(knownHostsName('127.0.0.1', srv.port), old)}\n`);
    const t = poolFor(srv, { knownHostsFiles: [f], acceptNewHostKeys: true }).get(makeHost('moved', srv.connectionFor()));
    const err = await t.exec('true').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnreachableError);
    const msg = (err as Error).message;
    expect(msg).toContain('HOST KEY CHANGED');
    expect(msg).toContain(srv.hostKeyFingerprint);
    expect(msg).toContain(sha256Fingerprint(old));
    expect(readFileSync(f, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('accepts a hashed known_hosts entry', async () => {
    const f = khFile('kh-hashed', `${formatKnownHostsLine(knownHostsName('127.0.0.1', srv.port), srv.hostKeyBlob, { hash: true })}\n`);
    expect(readFileSync(f, 'utf8')).not.toContain('127.0.0.1');
    const t = poolFor(srv, { knownHostsFiles: [f] }).get(makeHost('hashed', srv.connectionFor()));
    expect((await t.exec('echo ok')).stdout).toBe('ok\n');
  });

  it('refuses a key marked @revoked', async () => {
    const f = khFile('kh-revoked', `${srv.knownHostsLine}\n@revoked * ssh-ed25519 ${srv.hostKeyBlob.toString('base64')}\n`);
    const err = await poolFor(srv, { knownHostsFiles: [f] })
      .get(makeHost('rev', srv.connectionFor()))
      .exec('true')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnreachableError);
    expect((err as Error).message).toContain('@revoked');
  });

  it("consults and records into a host's own known_hosts file (remedy_known_hosts)", async () => {
    const own = join(work, 'kh-own');
    const global = khFile('kh-global', '');
    const t = poolFor(srv, { knownHostsFiles: [global], acceptNewHostKeys: true }).get(makeHost('own', srv.connectionFor({ knownHostsFile: own })));
    expect((await t.exec('true')).exitCode).toBe(0);
    expect(readFileSync(own, 'utf8')).toBe(`${srv.knownHostsLine}\n`);
    expect(readFileSync(global, 'utf8')).toBe('');
  });
});

describe('authentication', () => {
  it('uses an encrypted key with a passphrase given as a value or by a prompt', async () => {
    const conn = srv.connectionFor({ privateKeyFile: srv.encryptedClientKeyFile });
    expect((await poolFor(srv, { passphrase: srv.passphrase }).get(makeHost('k', conn)).exec('echo a')).stdout).toBe('a\n');
    const asked: string[] = [];
    const prompt = async (file: string) => (asked.push(file), srv.passphrase);
    expect((await poolFor(srv, { passphrase: prompt }).get(makeHost('k', conn)).exec('echo b')).stdout).toBe('b\n');
    expect(asked).toEqual([srv.encryptedClientKeyFile]);
  });

  it('explains a missing passphrase and a rejected key', async () => {
    const enc = srv.connectionFor({ privateKeyFile: srv.encryptedClientKeyFile });
    const e1 = await poolFor(srv)
      .get(makeHost('k', enc))
      .exec('true')
      .catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(UnreachableError);
    expect((e1 as Error).message).toMatch(/encrypted and no passphrase.*REMEDY_SSH_PASSPHRASE/);
    const stranger = join(work, 'stranger_key');
    writeFileSync(stranger, generateUserKey().private, { mode: 0o600 });
    const e2 = await poolFor(srv)
      .get(makeHost('k', srv.connectionFor({ privateKeyFile: stranger })))
      .exec('true')
      .catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(UnreachableError);
    expect((e2 as Error).message).toMatch(new RegExp(`authentication failed for user ${srv.user} \\(tried key ${stranger}`));
  });
});

describe('jump hosts', () => {
  it('reaches a target through a bastion, verifying both, sharing the bastion connection', async () => {
    const bastion = await startSshServer();
    const t1 = await startSshServer();
    const t2 = await startSshServer();
    try {
      const kh = join(work, 'kh-jump');
      writeFileSync(kh, [bastion, t1, t2].map((s) => s.knownHostsLine).join('\n') + '\n');
      const hBastion = makeHost('bastion', bastion.connectionFor());
      const h1 = makeHost('t1', t1.connectionFor({ proxyJump: ['bastion'] }));
      const h2 = makeHost('t2', t2.connectionFor({ proxyJump: ['bastion'] }));
      const pool = poolFor(bastion, { knownHostsFiles: [kh], inventory: makeInventory([hBastion, h1, h2]) });
      const [r1, r2] = await Promise.all([pool.get(h1).exec('echo one'), pool.get(h2).exec('echo two')]);
      expect(r1.stdout).toBe('one\n');
      expect(r2.stdout).toBe('two\n');
      expect(bastion.stats.connections).toBe(1);
      expect(bastion.stats.execs).toEqual([]);
      expect(t1.stats.connections).toBe(1);
      expect(pool.route(h1).jumps.map((j) => j.port)).toEqual([bastion.port]);
    } finally {
      await Promise.all([bastion.stop(), t1.stop(), t2.stop()]);
    }
  });

  it("refuses when a hop's key is unknown, naming the hop", async () => {
    const bastion = await startSshServer();
    const target = await startSshServer();
    try {
      const kh = join(work, 'kh-jump-partial');
      writeFileSync(kh, `${target.knownHostsLine}\n`);
      const hB = makeHost('bastion', bastion.connectionFor());
      const hT = makeHost('target', target.connectionFor({ proxyJump: ['bastion'] }));
      const err = await poolFor(bastion, { knownHostsFiles: [kh], inventory: makeInventory([hB, hT]) })
        .get(hT)
        .exec('true')
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnreachableError);
      expect((err as Error).message).toMatch(/^target: cannot connect to jump host bastion /);
      expect((err as Error).message).toContain(bastion.hostKeyFingerprint);

      writeFileSync(kh, `${bastion.knownHostsLine}\n`);
      const err2 = await poolFor(bastion, { knownHostsFiles: [kh], inventory: makeInventory([hB, hT]) })
        .get(hT)
        .exec('true')
        .catch((e: unknown) => e);
      expect((err2 as Error).message).toMatch(/^target: cannot connect to .* via bastion: host key .* is not known/);
      expect((err2 as Error).message).toContain(target.hostKeyFingerprint);
    } finally {
      await Promise.all([bastion.stop(), target.stop()]);
    }
  });
});

describe('fetch', () => {
  const sha = (buf: Buffer) => createHash('sha256').update(buf).digest('hex');

  it('streams a file over SFTP and verifies size and sha256', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 17);
    const remote = join(work, 'remote.bin');
    writeFileSync(remote, data);
    const local = join(work, 'out', 'h', 'remote.bin');
    const t = poolFor(srv).get(makeHost('h', srv.connectionFor()));
    expect(await t.fetch(remote, local)).toEqual({ bytes: data.length, sha256: sha(data) });
    expect(readFileSync(local).equals(data)).toBe(true);
    expect(statSync(local).mode & 0o777).toBe(0o600);
    expect(existsSync(`${local}.part`)).toBe(false);
  });

  it('fails clearly for a missing file and leaves nothing behind', async () => {
    const local = join(work, 'out', 'missing');
    const t = poolFor(srv).get(makeHost('h', srv.connectionFor()));
    const err = await t.fetch('/nonexistent/file', local).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchError);
    expect((err as Error).message).toMatch(/^h: cannot fetch \/nonexistent\/file: no such file/i);
    expect(existsSync(local) || existsSync(`${local}.part`)).toBe(false);
  });

  it('streams through a become wrapper and checks the host-side sha256', async () => {
    const data = randomBytes(3 * 1024 * 1024);
    const remote = join(work, "with space's.bin");
    writeFileSync(remote, data);
    const seen: string[] = [];
    const becomeWrap = (cmd: string) => {
      seen.push(cmd);
      return shellJoin(['sh', '-c', cmd]);
    };
    const local = join(work, 'out', 'become.bin');
    const t = poolFor(srv).get(makeHost('h', srv.connectionFor()));
    expect(await t.fetch(remote, local, { becomeWrap })).toEqual({ bytes: data.length, sha256: sha(data) });
    expect(seen).toHaveLength(3);
    expect(seen.some((c) => c.startsWith('head -c 3145728 '))).toBe(true);
    expect(seen.some((c) => c.includes('sha256sum'))).toBe(true);
  });

  it('reports a become read that fails', async () => {
    const t = poolFor(srv).get(makeHost('h', srv.connectionFor()));
    const local = join(work, 'out', 'denied');
    const err = await t
      .fetch(join(work, 'remote.bin'), local, { becomeWrap: () => `echo 'sudo: a password is required' >&2; exit 1` })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchError);
    expect((err as Error).message).toContain('sudo: a password is required');
    expect(existsSync(local)).toBe(false);
  });
});
