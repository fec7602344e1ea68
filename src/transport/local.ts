// The local transport (localhost / ansible_connection=local): same contract as SSH. Commands
// run through /bin/sh -c as leaders of their own process group (detached), so a timeout kills
// everything they started; fetch is a hashed, constant-memory copy.
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { RemedyError } from '../errors.js';
import type { BecomeSettings } from '../inventory/types.js';
import { readAsWrapper, SUDO_PROMPT_MARKER, type WrappedCommand } from '../shell/become.js';
import { fetchThroughCommand, FetchError, writeAtomically, writeStreamToFile, type CommandRunner, type CommandStream } from './fetch.js';
import { BoundedBuffer, DEFAULT_MAX_BUFFER_BYTES, MarkerStripper, OutputSink } from './output.js';
import type { ExecOptions, ExecResult, FetchOptions, FetchResult, Transport } from './types.js';

export interface LocalTransportOptions {
  /** Wait between TERM and KILL of a timed-out command's process group. Default 2 s. */
  killGraceMs?: number | undefined;
  /** How fetch's `readAs` escalates. */
  become?: BecomeSettings | undefined;
  /** Shell used to run commands. Default /bin/sh. */
  shell?: string | undefined;
}

export class LocalTransport implements Transport {
  readonly host: string;
  readonly #options: LocalTransportOptions;
  readonly #running = new Set<number>();

  constructor(host = 'localhost', options: LocalTransportOptions = {}) {
    this.host = host;
    this.#options = options;
  }

  async connect(): Promise<void> {
    // Nothing to open.
  }

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const started = performance.now();
    const limit = options.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES;
    const grace = this.#options.killGraceMs ?? 2000;
    if (options.signal?.aborted) {
      return Promise.resolve({ exitCode: null, signal: null, stdout: '', stderr: '', timedOut: false, aborted: true, truncated: false, durationMs: 0 });
    }
    return new Promise((resolve, reject) => {
      const child = spawn(this.#options.shell ?? '/bin/sh', ['-c', command], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
      const stdout = new OutputSink(limit, options.onStdout);
      const stderr = new OutputSink(limit, options.onStderr, [new MarkerStripper(SUDO_PROMPT_MARKER)]);
      let timedOut = false;
      let aborted = false;
      let killTimer: NodeJS.Timeout | undefined;
      const pid = child.pid;
      if (pid !== undefined) this.#running.add(pid);
      const killGroup = (sig: NodeJS.Signals) => {
        if (pid === undefined) return;
        try {
          process.kill(-pid, sig);
        } catch {
          // already gone
        }
      };
      const signals: ('TERM' | 'KILL')[] = [];
      const kill = () => {
        if (killTimer) return;
        signals.push('TERM');
        killGroup('SIGTERM');
        killTimer = setTimeout(() => {
          signals.push('KILL');
          killGroup('SIGKILL');
        }, grace);
        killTimer.unref();
      };
      /** After a kill: is anything of the group still alive (EPERM: alive, but not ours to signal)? */
      const groupAlive = (): boolean => {
        if (pid === undefined) return false;
        try {
          process.kill(-pid, 0);
          return true;
        } catch (err) {
          return (err as NodeJS.ErrnoException).code === 'EPERM';
        }
      };
      const onAbort = () => {
        aborted = true;
        kill();
      };
      const timer = options.timeoutMs && options.timeoutMs > 0 ? setTimeout(() => ((timedOut = true), kill()), options.timeoutMs) : undefined;
      options.signal?.addEventListener('abort', onAbort, { once: true });

      child.stdout.on('data', (d: Buffer) => stdout.write(d));
      child.stderr.on('data', (d: Buffer) => stderr.write(d));
      child.stdin.on('error', () => undefined); // EPIPE when the command ignores stdin
      child.once('error', (err) => {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        reject(new RemedyError(`${this.host}: cannot run ${this.#options.shell ?? '/bin/sh'}: ${err.message}`));
      });
      child.once('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        if (killTimer) clearTimeout(killTimer);
        if (pid !== undefined) this.#running.delete(pid);
        options.signal?.removeEventListener('abort', onAbort);
        stdout.end();
        stderr.end();
        resolve({
          exitCode: code,
          signal,
          stdout: stdout.buffer.toString(),
          stderr: stderr.buffer.toString(),
          timedOut,
          aborted,
          truncated: stdout.buffer.truncated || stderr.buffer.truncated,
          durationMs: Math.round(performance.now() - started),
          kill: signals.length > 0 && pid !== undefined ? { via: 'the controller user (process group)', signals, left: groupAlive() ? [pid] : [] } : undefined,
        });
      });
      if (options.stdin !== undefined) child.stdin.write(options.stdin);
      child.stdin.end();
    });
  }

  async fetch(remotePath: string, localPath: string, options: FetchOptions = {}): Promise<FetchResult> {
    const wrap = options.becomeWrap ?? (options.readAs !== undefined ? this.#readAsWrap(options.readAs) : undefined);
    if (wrap) return fetchThroughCommand(this.#runner(), remotePath, localPath, wrap, options.signal);
    let size: number;
    try {
      const st = await stat(remotePath);
      if (!st.isFile()) throw new FetchError(this.host, `cannot fetch ${remotePath}: not a regular file`);
      size = st.size;
    } catch (err) {
      if (err instanceof FetchError) throw err;
      throw new FetchError(this.host, `cannot fetch ${remotePath}: ${(err as Error).message}`);
    }
    return writeAtomically(localPath, async (part) => {
      // Only the bytes present at stat time: a growing log still yields a consistent copy.
      const src = size === 0 ? Readable.from([]) : createReadStream(remotePath, { start: 0, end: size - 1 });
      const res = await writeStreamToFile(src, part, options.signal);
      if (res.bytes !== size) throw new FetchError(this.host, `copied ${res.bytes} bytes of ${remotePath}, expected ${size}`);
      return res;
    });
  }

  async close(): Promise<void> {
    // Commands still running belong to an aborted run: do not leave them behind.
    for (const pid of this.#running) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    this.#running.clear();
  }

  #readAsWrap(user: string): (cmd: string) => WrappedCommand {
    return readAsWrapper(this.#options.become, user);
  }

  #runner(): CommandRunner {
    return {
      host: this.host,
      exec: (command, options) => this.exec(command, options),
      stream: async (command, stdin, signal) => this.#stream(command, stdin, signal),
    };
  }

  #stream(command: string, stdin: string | undefined, _signal: AbortSignal | undefined): CommandStream {
    const child = spawn(this.#options.shell ?? '/bin/sh', ['-c', command], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const stderr = new BoundedBuffer(64 * 1024);
    child.stderr.on('data', (d: Buffer) => stderr.push(d));
    child.stdin.on('error', () => undefined);
    const done = new Promise<{ exitCode: number | null; signal: string | null; stderr: string }>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ exitCode: code, signal, stderr: stderr.toString() }));
    });
    if (stdin !== undefined) child.stdin.write(stdin);
    child.stdin.end();
    return {
      stdout: child.stdout,
      done,
      kill: () => {
        if (child.pid !== undefined) {
          try {
            process.kill(-child.pid, 'SIGTERM');
          } catch {
            // gone
          }
        }
      },
    };
  }
}
