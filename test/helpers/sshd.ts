// A real OpenSSH server for end-to-end tests: `/usr/sbin/sshd -D -e -f <cfg>` on a free
// 127.0.0.1 port, with its own host key, authorized key, pidfile and sftp subsystem.
//
// Login user and clean shell: sshd logs in the user running the tests (root here, which the
// become tests need: runuser only works for root). That user's real ~/.bashrc may be slow or
// noisy (pyenv on this machine), so sshd's `SetEnv HOME=<dir>/home` points HOME at an empty
// directory for the session: bash then finds no rc file and the remote shell is clean, without
// creating system users or touching the real home.
//
//   const sshd = await startSshd();           // fails loudly if /usr/sbin/sshd is missing
//   ... sshd.connectionFor(), sshd.knownHostsFile ...
//   await sshd.stop();                         // kills by PID: sessions first, then the listener
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Connection } from '../../src/inventory/types.js';
import { formatKnownHostsLine, knownHostsName, sha256Fingerprint } from '../../src/transport/known-hosts-file.js';

export const SSHD_BINARY = '/usr/sbin/sshd';
const SFTP_SERVER = ['/usr/lib/openssh/sftp-server', '/usr/libexec/openssh/sftp-server', '/usr/libexec/sftp-server'].find((p) => existsSync(p));

export interface SshdOptions {
  /** sshd MaxSessions (its default is 10). */
  maxSessions?: number | undefined;
  /** Reuse a client key pair (private key file; `<file>.pub` must exist) instead of generating one. */
  clientKeyFile?: string | undefined;
  /** Reuse a host key (private key file) instead of generating one. */
  hostKeyFile?: string | undefined;
  /** Extra sshd_config lines. */
  extraConfig?: string[] | undefined;
  /** Seconds before startSshd gives up waiting for the port (default 10). */
  startTimeoutSec?: number | undefined;
}

export interface Sshd {
  host: '127.0.0.1';
  port: number;
  user: string;
  /** Listener PID (from sshd's pidfile). */
  pid: number;
  dir: string;
  /** Client private key authorized on this server (unencrypted). */
  keyFile: string;
  hostKeyFile: string;
  hostKeyBlob: Buffer;
  hostKeyFingerprint: string;
  /** `[127.0.0.1]:PORT ssh-ed25519 AAAA…` */
  knownHostsLine: string;
  /** A known_hosts file with knownHostsLine. */
  knownHostsFile: string;
  /** The empty HOME of remote sessions. */
  home: string;
  connectionFor(extra?: Partial<Connection>): Connection;
  /** PIDs of everything the listener forked (per-connection sshd processes and their commands). */
  sessionPids(): number[];
  /** sshd's stderr so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function keygen(file: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'remedy-test', '-f', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr || r.error?.message}`);
}

function publicBlob(pubFile: string): Buffer {
  const b64 = readFileSync(pubFile, 'utf8').trim().split(/\s+/)[1];
  if (!b64) throw new Error(`no key in ${pubFile}`);
  return Buffer.from(b64, 'base64');
}

/** Children, grandchildren… of `pid`, from /proc. */
export function descendantPids(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(e), ppid);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) {
      if (pp === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  if (!existsSync(SSHD_BINARY)) {
    throw new Error(`${SSHD_BINARY} not found: install openssh-server (apt-get install openssh-server; see lab/install-prereqs.sh)`);
  }
  if (!SFTP_SERVER) throw new Error('sftp-server not found: install openssh-server (it ships /usr/lib/openssh/sftp-server)');
  const dir = mkdtempSync(join(tmpdir(), 'remedy-sshd-'));
  const home = join(dir, 'home');
  mkdirSync(home, { mode: 0o755 });
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const hostKeyFile = options.hostKeyFile ?? join(dir, 'host_ed25519');
  if (!options.hostKeyFile) keygen(hostKeyFile);
  const keyFile = options.clientKeyFile ?? join(dir, 'client_ed25519');
  if (!options.clientKeyFile) keygen(keyFile);
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, readFileSync(`${keyFile}.pub`), { mode: 0o600 });

  const port = await freePort();
  const user = userInfo().username;
  const pidFile = join(dir, 'sshd.pid');
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKeyFile}`,
    `AuthorizedKeysFile ${authorizedKeys}`,
    `PidFile ${pidFile}`,
    'StrictModes no',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'PermitRootLogin prohibit-password',
    'AllowTcpForwarding yes',
    `Subsystem sftp ${SFTP_SERVER}`,
    `SetEnv HOME=${home}`,
    'PrintMotd no',
    'PrintLastLog no',
    'UseDNS no',
    'MaxStartups 100:30:200',
    'LogLevel ERROR',
    ...(options.maxSessions !== undefined ? [`MaxSessions ${options.maxSessions}`] : []),
    ...(options.extraConfig ?? []),
  ].join('\n');
  const configFile = join(dir, 'sshd_config');
  writeFileSync(configFile, `${config}\n`);

  let log = '';
  const child: ChildProcess = spawn(SSHD_BINARY, ['-D', '-e', '-f', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-8000);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));

  const deadline = Date.now() + (options.startTimeoutSec ?? 10) * 1000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`sshd exited during start-up (${child.exitCode ?? child.signalCode}): ${log.trim()}`);
    }
    if (existsSync(pidFile) && (await canConnect(port))) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`sshd did not listen on 127.0.0.1:${port} within ${options.startTimeoutSec ?? 10} s: ${log.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const pid = Number(readFileSync(pidFile, 'utf8').trim()) || (child.pid ?? 0);
  // The readiness probe's pre-auth child exits on EOF; wait for it so sessionPids() starts empty.
  for (let i = 0; i < 200 && descendantPids(pid).length > 0; i++) await new Promise((r) => setTimeout(r, 10));
  const hostKeyBlob = publicBlob(`${hostKeyFile}.pub`);
  const knownHostsLine = formatKnownHostsLine(knownHostsName('127.0.0.1', port), hostKeyBlob);
  const knownHostsFile = join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, `${knownHostsLine}\n`);

  const signalAll = (pids: number[], sig: NodeJS.Signals) => {
    for (const p of pids) {
      try {
        process.kill(p, sig);
      } catch {
        // gone
      }
    }
  };

  return {
    host: '127.0.0.1',
    port,
    user,
    pid,
    dir,
    keyFile,
    hostKeyFile,
    hostKeyBlob,
    hostKeyFingerprint: sha256Fingerprint(hostKeyBlob),
    knownHostsLine,
    knownHostsFile,
    home,
    connectionFor: (extra = {}) => ({ type: 'ssh', address: '127.0.0.1', port, user, privateKeyFile: keyFile, ...extra }),
    sessionPids: () => descendantPids(pid),
    log: () => log,
    stop: async () => {
      // Sessions outlive the listener, so kill them first (resuming any a test stopped).
      const sessions = descendantPids(pid);
      signalAll(sessions, 'SIGCONT');
      signalAll(sessions, 'SIGKILL');
      signalAll([pid], 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null && child.signalCode === null) signalAll([pid], 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * True once sshd answers with its SSH banner: the connection was accepted and its pre-auth child
 * forked, so start-up can then wait for that child to go away.
 */
function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 2000);
    s.once('data', (d: Buffer) => {
      clearTimeout(timer);
      s.destroy();
      resolve(d.toString('latin1').startsWith('SSH-'));
    });
    s.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}
