// The embedded default: a private redis-server on a unix socket in the data directory, AOF on,
// started and stopped by PID with `remedy serve`. No TCP port (port 0): nothing else on the
// machine can reach it except through the socket, which is mode 700.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { RemedyError } from '../errors.js';

export const FSYNC_POLICIES = ['everysec', 'always'] as const;
export type FsyncPolicy = (typeof FSYNC_POLICIES)[number];

export interface EmbeddedRedis {
  socket: string;
  pid: number;
  stop(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A redis-server of ours left behind by a serve that was SIGKILLed: stop it before starting anew. */
function stopStale(pidFile: string): void {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 1 || !alive(pid)) return;
  let cmd = '';
  try {
    cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return;
  }
  if (cmd.includes('redis-server')) process.kill(pid, 'SIGKILL');
}

async function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

export async function startEmbeddedRedis(dataDir: string, options: { fsync?: FsyncPolicy; binary?: string } = {}): Promise<EmbeddedRedis> {
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const socket = join(dir, 'redis.sock');
  const pidFile = join(dir, 'redis.pid');
  stopStale(pidFile);
  rmSync(socket, { force: true });
  const args = [
    '--port',
    '0',
    '--unixsocket',
    socket,
    '--unixsocketperm',
    '700',
    '--dir',
    dir,
    '--pidfile',
    pidFile,
    '--logfile',
    join(dir, 'redis.log'),
    '--daemonize',
    'no',
    '--appendonly',
    'yes',
    '--appendfsync',
    options.fsync ?? 'everysec',
    // The AOF is the persistence; RDB snapshots would only add fork pauses.
    '--save',
    '',
    // BullMQ needs keys never evicted.
    '--maxmemory-policy',
    'noeviction',
  ];
  const child = spawn(options.binary ?? 'redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'], detached: false });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new RemedyError(
          err.code === 'ENOENT'
            ? 'redis-server not found: install it (bash lab/install-prereqs.sh installs the Debian package) or pass --redis URL'
            : `redis-server: ${err.message}`,
        ),
      ),
    );
    child.once('exit', (code, signal) =>
      reject(new RemedyError(`redis-server exited at start (${signal ?? code}): ${stderr.trim() || `see ${join(dir, 'redis.log')}`}`)),
    );
  });
  failed.catch(() => undefined);
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) await failed;
    if (existsSync(socket)) {
      const probe = new Redis({ path: socket, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      try {
        await probe.connect();
        // Loading the AOF answers -LOADING: wait until the data is back.
        if ((await probe.ping()) === 'PONG') {
          probe.disconnect();
          break;
        }
      } catch {
        // not ready yet
      }
      probe.disconnect();
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new RemedyError(`redis-server did not answer on ${socket} within 15 s: see ${join(dir, 'redis.log')}`);
    }
    await Promise.race([new Promise((r) => setTimeout(r, 50)), failed]);
  }
  child.removeAllListeners('exit');
  const pid = child.pid as number;
  return {
    socket,
    pid,
    async stop() {
      // SIGTERM: redis-server fsyncs the AOF and exits; SIGKILL only if it hangs.
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(pid, 'SIGTERM');
      if (!(await waitExit(child, 10_000))) {
        process.kill(pid, 'SIGKILL');
        await waitExit(child, 5_000);
      }
    },
  };
}
