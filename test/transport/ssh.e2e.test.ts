// SshTransport against a real OpenSSH sshd on loopback (test/helpers/sshd.ts). These need root
// (runuser, sudo -u nobody) and /usr/sbin/sshd; they fail with a clear message otherwise.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utils } from 'ssh2';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { UnreachableError } from '../../src/errors.js';
import { SUDO_PROMPT_MARKER, wrapBecome } from '../../src/shell/become.js';
import { shellQuote } from '../../src/shell/quote.js';
import { TransportPool, type TransportPoolOptions } from '../../src/transport/index.js';
import { formatKnownHostsLine, knownHostsName, sha256Fingerprint } from '../../src/transport/known-hosts-file.js';
import { generateUserKey } from '../helpers/ssh-server.js';
import { freePort, startSshd, type Sshd } from '../helpers/sshd.js';
import { HOSTILE_VALUES, makeHost, makeInventory, processGone, readPid, waitFor } from './support.js';

if (process.getuid?.() !== 0) throw new Error('ssh.e2e.test.ts needs root: it tests runuser/sudo become as on the lab hosts');

let sshd: Sshd;
const work = mkdtempSync(join(tmpdir(), 'remedy-e2e-ssh-'));
chmodSync(work, 0o755);
const pools: TransportPool[] = [];
const extraServers: Sshd[] = [];

function pool(extra: TransportPoolOptions = {}): TransportPool {
  const p = new TransportPool({ knownHostsFiles: [sshd.knownHostsFile], agent: false, sshConfigFile: false, killGraceMs: 1000, ...extra });
  pools.push(p);
  return p;
}
const host = (name = 'lab1', extra = {}) => makeHost(name, sshd.connectionFor(extra), { method: 'runuser' });
const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => new Error('expected a failure'),
    (e: unknown) => e as Error,
  );

beforeAll(async () => {
  sshd = await startSshd();
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.closeAll()));
  await Promise.all(extraServers.splice(0).map((s) => s.stop()));
});
afterAll(async () => {
  await sshd?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('exec on OpenSSH', () => {
  it('runs in a clean shell with exit codes and signals', async () => {
    const t = pool().get(host());
    expect(await t.exec('echo "$HOME"; echo err >&2; exit 7')).toMatchObject({ exitCode: 7, stdout: `${sshd.home}\n`, stderr: 'err\n' });
    expect(await t.exec('kill -TERM $$')).toMatchObject({ exitCode: null, signal: 'SIGTERM' });
    expect((await t.exec('echo "$PATH"')).stdout).not.toMatch(/pyenv/);
  });

  it('turns Nagle off on the connection (TCP_NODELAY) and reuses it for every command', async () => {
    // Nagle + delayed ACK would cost ~40 ms per command after the first (perf-baselines.md). The
    // latency itself is measured by bench/fanout, not asserted here.
    const noDelay = vi.spyOn(Socket.prototype, 'setNoDelay');
    const connects = vi.spyOn(Socket.prototype, 'connect');
    try {
      const t = pool().get(host());
      for (let i = 0; i < 5; i++) expect(await t.exec('true')).toMatchObject({ exitCode: 0 });
      expect(noDelay).toHaveBeenCalledWith(true);
      expect(connects).toHaveBeenCalledTimes(1);
    } finally {
      noDelay.mockRestore();
      connects.mockRestore();
    }
  });

  it('kills the remote process group on timeout', async () => {
    const t = pool().get(host());
    const a = join(work, 'shell.pid');
    const b = join(work, 'sleep.pid');
    const r = await t.exec(`echo $$ > ${a}; sleep 300 & echo $! > ${b}; wait`, { timeoutMs: 500 });
    expect(r).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGTERM' });
    expect(await waitFor(() => processGone(readPid(a)) && processGone(readPid(b)), 5000)).toBe(true);
  });

  it('runs 20 parallel commands on one connection within MaxSessions 10', async () => {
    const t = pool().get(host());
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => t.exec(`sleep 0.3; echo ${i}`)));
    results.forEach((r, i) => expect(r).toMatchObject({ exitCode: 0, stdout: `${i}\n` }));
  });

  it('waits for free sessions when sshd allows fewer than the cap (MaxSessions 3)', async () => {
    const small = await startSshd({ maxSessions: 3, clientKeyFile: sshd.keyFile });
    extraServers.push(small);
    const t = pool({ knownHostsFiles: [small.knownHostsFile] }).get(makeHost('small', small.connectionFor()));
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => t.exec(`sleep 0.1; echo ${i}`)));
    results.forEach((r, i) => expect(r).toMatchObject({ exitCode: 0, stdout: `${i}\n` }));
  });
});

describe('become on OpenSSH (as root)', () => {
  it('runs commands as another user with runuser, sudo -n and sudo -S (password on stdin)', async () => {
    const t = pool().get(host());
    const viaRunuser = wrapBecome('id -un', { method: 'runuser', user: 'nobody' });
    expect((await t.exec(viaRunuser.command)).stdout).toBe('nobody\n');
    const viaSudo = wrapBecome('id -un', { method: 'sudo', user: 'nobody' });
    expect(await t.exec(viaSudo.command)).toMatchObject({ exitCode: 0, stdout: 'nobody\n' });
    const withPassword = wrapBecome('id -un', { method: 'sudo', user: 'nobody', password: 's3cret' });
    expect(withPassword.command).not.toContain('s3cret');
    const r = await t.exec(withPassword.command, { stdin: withPassword.stdinPrefix });
    expect(r).toMatchObject({ exitCode: 0, stdout: 'nobody\n' });
    expect(r.stderr).not.toContain(SUDO_PROMPT_MARKER);
  });

  it('kills a timed-out command run through sudo', async () => {
    const t = pool().get(host());
    const p = join(work, 'sudo-sleep.pid');
    writeFileSync(p, '');
    chmodSync(p, 0o666);
    const cmd = wrapBecome(`sleep 300 & echo $! > ${p}; wait`, { method: 'sudo', user: 'nobody' });
    const r = await t.exec(cmd.command, { timeoutMs: 800 });
    expect(r.timedOut).toBe(true);
    expect(await waitFor(() => processGone(readPid(p)), 5000)).toBe(true);
  });

  it('never executes quoted hostile values, even through become', async () => {
    const canaryDir = join(work, 'canary');
    mkdirSync(canaryDir);
    chmodSync(canaryDir, 0o1777); // writable by nobody too, so an injection would succeed
    const canary = join(canaryDir, 'canary');
    const t = pool().get(host());
    for (const raw of HOSTILE_VALUES) {
      const v = raw.replaceAll('CANARY', canary);
      const inner = `printf '%s' ${shellQuote(v)}`;
      expect((await t.exec(inner)).stdout).toBe(v);
      expect((await t.exec(wrapBecome(inner, { method: 'runuser', user: 'nobody' }).command)).stdout).toBe(v);
      expect((await t.exec(wrapBecome(inner, { method: 'sudo', user: 'nobody' }).command)).stdout).toBe(v);
    }
    expect(existsSync(canary)).toBe(false);
  });
});

describe('fetch on OpenSSH', () => {
  it('streams a 200 MB file over SFTP with bounded memory and a matching sha256', async () => {
    const remote = join(work, 'big.bin');
    const mk = spawnSync('sh', ['-c', `head -c 209715200 /dev/urandom > ${remote}`]);
    expect(mk.status).toBe(0);
    const expected = spawnSync('sha256sum', [remote], { encoding: 'utf8' }).stdout.split(' ')[0];
    const t = pool().get(host());
    await t.connect();
    const baseline = process.memoryUsage.rss();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
    const local = join(work, 'artifacts', 'big.bin');
    try {
      const r = await t.fetch(remote, local);
      expect(r).toEqual({ bytes: 209715200, sha256: expected });
    } finally {
      clearInterval(sampler);
      rmSync(remote, { force: true });
    }
    expect(spawnSync('sha256sum', [local], { encoding: 'utf8' }).stdout.split(' ')[0]).toBe(expected);
    rmSync(local, { force: true });
    const growthMb = (peak - baseline) / 1024 / 1024;
    expect(growthMb).toBeLessThan(64);
  });

  it('fetches a file only the become user can read (readAs) and verifies it on the host', async () => {
    const dir = join(work, 'private');
    mkdirSync(dir);
    const secret = join(dir, 'app.log');
    writeFileSync(secret, 'line\n'.repeat(100_000));
    chownSync(secret, 65534, 65534);
    chmodSync(secret, 0o400);
    const rootOnly = join(dir, 'root-only');
    writeFileSync(rootOnly, 'x');
    chmodSync(rootOnly, 0o600);
    const t = pool().get(host());
    const out = join(work, 'artifacts', 'app.log');
    const r = await t.fetch(secret, out, { readAs: 'nobody' });
    expect(r.bytes).toBe(500_000);
    expect(readFileSync(out, 'utf8')).toBe('line\n'.repeat(100_000));
    await expect(t.fetch(rootOnly, join(work, 'artifacts', 'x'), { readAs: 'nobody' })).rejects.toThrow(/Permission denied/);
  });
});

describe('host keys on OpenSSH', () => {
  it('accepts a hashed known_hosts file made by ssh-keygen -H', async () => {
    const f = join(work, 'kh-hashed');
    copyFileSync(sshd.knownHostsFile, f);
    expect(spawnSync('ssh-keygen', ['-H', '-f', f]).status).toBe(0);
    expect(readFileSync(f, 'utf8')).toMatch(/^\|1\|/);
    expect(
      (
        await pool({ knownHostsFiles: [f] })
          .get(host())
          .exec('echo ok')
      ).stdout,
    ).toBe('ok\n');
  });

  it('refuses a changed host key, showing both fingerprints', async () => {
    const pair = generateUserKey();
    const parsed = utils.parseKey(pair.public);
    if (parsed instanceof Error) throw parsed;
    const old = parsed.getPublicSSH();
    const f = join(work, 'kh-changed');
    writeFileSync(f, `${formatKnownHostsLine(knownHostsName('127.0.0.1', sshd.port), old)}\n`);
    const err = await errorOf(
      pool({ knownHostsFiles: [f], acceptNewHostKeys: true })
        .get(host())
        .exec('true'),
    );
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toContain(sshd.hostKeyFingerprint);
    expect(err.message).toContain(sha256Fingerprint(old));
  });

  it('refuses an unknown host, then accepts and records it with the flag', async () => {
    const f = join(work, 'kh-new');
    writeFileSync(f, '');
    const err = await errorOf(
      pool({ knownHostsFiles: [f] })
        .get(host())
        .exec('true'),
    );
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toContain(sshd.hostKeyFingerprint);
    expect(readFileSync(f, 'utf8')).toBe('');
    expect(
      (
        await pool({ knownHostsFiles: [f], acceptNewHostKeys: true })
          .get(host())
          .exec('echo hi')
      ).stdout,
    ).toBe('hi\n');
    expect(readFileSync(f, 'utf8')).toBe(`${sshd.knownHostsLine}\n`);
  });
});

describe('jump host through a second sshd', () => {
  it('reaches the target via the bastion, verifying both host keys', async () => {
    const bastion = await startSshd({ clientKeyFile: sshd.keyFile });
    extraServers.push(bastion);
    const kh = join(work, 'kh-jump');
    writeFileSync(kh, `${bastion.knownHostsLine}\n${sshd.knownHostsLine}\n`);
    const hB = makeHost('bastion', bastion.connectionFor());
    const hT = makeHost('target', sshd.connectionFor({ proxyJump: ['bastion'] }));
    const p = pool({ knownHostsFiles: [kh], inventory: makeInventory([hB, hT]) });
    expect(bastion.sessionPids()).toEqual([]);
    expect((await p.get(hT).exec('echo through')).stdout).toBe('through\n');
    expect(bastion.sessionPids().length).toBeGreaterThan(0); // the tunnel's session on the bastion

    writeFileSync(kh, `${bastion.knownHostsLine}\n`);
    const err = await errorOf(
      pool({ knownHostsFiles: [kh], inventory: makeInventory([hB, hT]) })
        .get(hT)
        .exec('true'),
    );
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toMatch(/via bastion/);
    expect(err.message).toContain(sshd.hostKeyFingerprint);
  });
});

describe('unreachable and failing hosts', () => {
  it('reports connection refused', async () => {
    const port = await freePort();
    const err = await errorOf(pool().get(host('gone', { port })).exec('true'));
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toMatch(new RegExp(`^gone: cannot connect to root@127\\.0\\.0\\.1:${port}: connection refused`));
  });

  it('detects a stopped sshd through keepalives in bounded time', async () => {
    const victim = await startSshd({ clientKeyFile: sshd.keyFile });
    extraServers.push(victim);
    const t = pool({ knownHostsFiles: [victim.knownHostsFile], keepalive: { intervalMs: 300, countMax: 2 } }).get(makeHost('frozen', victim.connectionFor()));
    expect((await t.exec('echo up')).stdout).toBe('up\n');
    const stopped = victim.sessionPids();
    expect(stopped.length).toBeGreaterThan(0);
    for (const pid of stopped) process.kill(pid, 'SIGSTOP');
    try {
      const started = Date.now();
      const err = await errorOf(t.exec('echo still there?'));
      expect(err).toBeInstanceOf(UnreachableError);
      expect(err.message).toMatch(/^frozen: .*Keepalive timeout/);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      for (const pid of stopped) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          // gone
        }
      }
    }
  });

  it('fails a running command with UnreachableError when its sshd is killed', async () => {
    const victim = await startSshd({ clientKeyFile: sshd.keyFile });
    extraServers.push(victim);
    const t = pool({ knownHostsFiles: [victim.knownHostsFile] }).get(makeHost('killed', victim.connectionFor()));
    const running = t.exec('sleep 30');
    await new Promise((r) => setTimeout(r, 500));
    for (const pid of victim.sessionPids()) process.kill(pid, 'SIGKILL');
    const err = await errorOf(running);
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toMatch(/^killed: connection lost/);
  });
});
