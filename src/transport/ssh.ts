// The SSH transport: one lazily opened, reused ssh2 connection per host; execs and SFTP queued
// behind a channel semaphore; timeouts kill remote process groups; fetch streams to disk.
import type { ClientChannel, SFTPWrapper, Stats } from 'ssh2';
import { UnreachableError } from '../errors.js';
import type { BecomeSettings } from '../inventory/types.js';
import { readAsWrapper, type WrappedCommand } from '../shell/become.js';
import { fetchThroughCommand, FetchError, hashFile, writeAtomically, type CommandRunner, type CommandStream } from './fetch.js';
import { JumpConnections } from './jump-hosts.js';
import { BoundedBuffer } from './output.js';
import { wrapInProcessGroup } from './process-group.js';
import { Semaphore } from './semaphore.js';
import { normalizeSignal, openExecChannel, recordedExit, runOnChannel, type SshConnection } from './ssh-channel.js';
import type { SshRoute } from './ssh-config.js';
import { CLOSE_GRACE_MS, closeClient, openSshClient, type SshConnectOptions } from './ssh-connect.js';
import type { ExecOptions, ExecResult, FetchOptions, FetchResult, Transport } from './types.js';

export const DEFAULT_CHANNEL_LIMIT = 8;
export const DEFAULT_KILL_GRACE_MS = 2000;

export interface SshTransportOptions extends SshConnectOptions {
  /** Concurrent session channels (exec + sftp) per connection; OpenSSH allows 10. Default 8. */
  channelLimit?: number | undefined;
  /** Wait between TERM and KILL of a timed-out command's process group. Default 2 s. */
  killGraceMs?: number | undefined;
  /** The host's become settings: how fetch's `readAs` escalates. */
  become?: BecomeSettings | undefined;
  /** Shared jump connections (the pool's); a private set otherwise. */
  jumps?: JumpConnections | undefined;
}

export class SshTransport implements Transport {
  readonly host: string;
  readonly route: SshRoute;
  readonly #options: SshTransportOptions;
  readonly #sem: Semaphore;
  readonly #jumps: JumpConnections;
  readonly #ownJumps: boolean;
  #conn: SshConnection | undefined;
  #connecting: Promise<SshConnection> | undefined;
  #closed = false;
  /** Woken whenever a channel of this transport closes (channel-open retries wait on it). */
  #slotWaiters: (() => void)[] = [];

  constructor(route: SshRoute, options: SshTransportOptions) {
    this.host = route.target.label;
    this.route = route;
    this.#options = options;
    this.#sem = new Semaphore(options.channelLimit ?? DEFAULT_CHANNEL_LIMIT);
    this.#ownJumps = !options.jumps;
    this.#jumps = options.jumps ?? new JumpConnections(options);
  }

  async connect(): Promise<void> {
    await this.#ensureConnection();
  }

  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const started = performance.now();
    let release: () => void;
    try {
      release = await this.#sem.acquire(options.signal);
    } catch (err) {
      if (options.signal?.aborted) return notStarted(started);
      throw err;
    }
    try {
      const conn = await this.#ensureConnection();
      if (options.signal?.aborted) return notStarted(started);
      const ch = await this.#openChannel(conn, wrapInProcessGroup(command));
      return await runOnChannel({ host: this.host, conn, killGraceMs: this.#killGrace, started }, ch, options);
    } finally {
      release();
      this.#wakeSlotWaiters();
    }
  }

  async fetch(remotePath: string, localPath: string, options: FetchOptions = {}): Promise<FetchResult> {
    const wrap = options.becomeWrap ?? (options.readAs !== undefined ? this.#readAsWrap(options.readAs) : undefined);
    if (wrap) return fetchThroughCommand(this.#runner(), remotePath, localPath, wrap, options.signal);
    return this.#sftpFetch(remotePath, localPath, options.signal);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#sem.rejectAll(new UnreachableError(this.host, 'the connection was closed'));
    const conn = this.#conn ?? (await this.#connecting?.catch(() => undefined));
    this.#conn = undefined;
    if (conn && !conn.dead) await closeClient(conn.client, CLOSE_GRACE_MS);
    if (this.#ownJumps) await this.#jumps.closeAll();
  }

  get #killGrace(): number {
    return this.#options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  }

  async #ensureConnection(): Promise<SshConnection> {
    if (this.#closed) throw new UnreachableError(this.host, 'the connection was closed');
    if (this.#conn && !this.#conn.dead) return this.#conn;
    this.#connecting ??= this.#open().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #open(): Promise<SshConnection> {
    const { target, jumps } = this.route;
    const via = jumps.length ? { client: await this.#jumps.get(jumps, this.host), label: jumps.map((j) => j.label).join(' > ') } : undefined;
    const client = await openSshClient(target, this.#options, this.host, via);
    const conn: SshConnection = { client, dead: false, reason: '' };
    client.on('error', (err: Error) => {
      conn.reason = err.message;
    });
    client.once('close', () => {
      conn.dead = true;
      conn.reason ||= 'the server closed the connection';
      if (this.#conn === conn) this.#conn = undefined;
      this.#wakeSlotWaiters();
    });
    if (this.#closed) {
      client.end();
      throw new UnreachableError(this.host, 'the connection was closed');
    }
    this.#conn = conn;
    return conn;
  }

  /**
   * Opens a session channel. A server with a lower MaxSessions than our cap refuses with
   * "open failed": that is retried each time another of our channels closes.
   */
  async #openChannel(conn: SshConnection, command: string): Promise<ClientChannel> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await openExecChannel(conn, command);
      } catch (err) {
        if (conn.dead) throw new UnreachableError(this.host, `connection lost${conn.reason ? ` (${conn.reason})` : ''}`);
        if (this.#sem.active <= 1 || attempt >= 50) {
          throw new UnreachableError(this.host, `cannot open an SSH session channel: ${(err as Error).message}`);
        }
        await this.#nextSlot(5000);
      }
    }
  }

  #nextSlot(maxMs: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, maxMs);
      t.unref();
      this.#slotWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  #wakeSlotWaiters(): void {
    for (const w of this.#slotWaiters.splice(0)) w();
  }

  #readAsWrap(user: string): (cmd: string) => WrappedCommand {
    return readAsWrapper(this.#options.become, user);
  }

  #runner(): CommandRunner {
    return {
      host: this.host,
      exec: (command, options) => this.exec(command, options),
      stream: (command, stdin, signal) => this.#stream(command, stdin, signal),
    };
  }

  /** A command whose stdout the caller consumes as a stream (fetch through become). */
  async #stream(command: string, stdin: string | undefined, signal: AbortSignal | undefined): Promise<CommandStream> {
    const release = await this.#sem.acquire(signal);
    let ch: ClientChannel;
    let conn: SshConnection;
    try {
      conn = await this.#ensureConnection();
      ch = await this.#openChannel(conn, command);
    } catch (err) {
      release();
      throw err;
    }
    const stderr = new BoundedBuffer(64 * 1024);
    ch.stderr.on('data', (d: Buffer) => stderr.push(d));
    let exitCode: number | null = null;
    let exitSignal: string | null = null;
    ch.on('exit', (code: number | null | undefined, sig?: string) => {
      if (typeof code === 'number') exitCode = code;
      else exitSignal = normalizeSignal(sig);
    });
    ch.on('error', () => undefined);
    const done = new Promise<{ exitCode: number | null; signal: string | null; stderr: string }>((resolve, reject) => {
      ch.once('close', () => {
        release();
        this.#wakeSlotWaiters();
        if (exitCode === null && exitSignal === null) ({ exitCode, exitSignal } = recordedExit(ch));
        if (conn.dead && exitCode === null && exitSignal === null) {
          reject(new UnreachableError(this.host, `connection lost during a transfer${conn.reason ? ` (${conn.reason})` : ''}`));
        } else resolve({ exitCode, signal: exitSignal, stderr: stderr.toString() });
      });
    });
    if (stdin !== undefined) ch.write(stdin);
    ch.end();
    return {
      stdout: ch,
      done,
      kill: () => {
        // Closing the channel makes the reader die of SIGPIPE on its next write.
        ch.resume();
        ch.close();
      },
    };
  }

  async #sftpFetch(remotePath: string, localPath: string, signal: AbortSignal | undefined): Promise<FetchResult> {
    const release = await this.#sem.acquire(signal);
    try {
      const conn = await this.#ensureConnection();
      const sftp = await new Promise<SFTPWrapper>((resolve, reject) =>
        conn.client.sftp((err, s) => (err ? reject(new FetchError(this.host, `cannot start SFTP: ${err.message}`)) : resolve(s))),
      );
      const onAbort = () => sftp.end();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const st = await new Promise<Stats>((resolve, reject) =>
          sftp.stat(remotePath, (err, s) =>
            err
              ? reject(
                  new FetchError(
                    this.host,
                    `cannot fetch ${remotePath}: ${err.message}${/permission/i.test(err.message) ? ' (use readAs to read it as another user)' : ''}`,
                  ),
                )
              : resolve(s),
          ),
        );
        if (!st.isFile()) throw new FetchError(this.host, `cannot fetch ${remotePath}: not a regular file`);
        return await writeAtomically(localPath, async (part) => {
          let expected = st.size;
          await new Promise<void>((resolve, reject) =>
            sftp.fastGet(
              remotePath,
              part,
              {
                concurrency: 64,
                chunkSize: 32768,
                mode: 0o600,
                step: (_done, _chunk, total) => (expected = total),
              },
              (err) => {
                if (signal?.aborted) reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
                else if (err)
                  reject(
                    conn.dead
                      ? new UnreachableError(this.host, `connection lost during a transfer (${conn.reason})`)
                      : new FetchError(this.host, `fetching ${remotePath} failed: ${err.message}`),
                  );
                else resolve();
              },
            ),
          );
          const local = await hashFile(part);
          if (local.bytes !== expected) throw new FetchError(this.host, `fetched ${local.bytes} bytes of ${remotePath}, expected ${expected}`);
          return local;
        });
      } finally {
        signal?.removeEventListener('abort', onAbort);
        sftp.end();
      }
    } finally {
      release();
      this.#wakeSlotWaiters();
    }
  }
}

function notStarted(started: number): ExecResult {
  return {
    exitCode: null,
    signal: null,
    stdout: '',
    stderr: '',
    timedOut: false,
    aborted: true,
    truncated: false,
    durationMs: Math.round(performance.now() - started),
  };
}
