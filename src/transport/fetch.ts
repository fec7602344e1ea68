// File transfer pieces both transports share: constant-memory copies that hash as they write,
// and the fetch path for files only another user can read (read through become, verified
// against a checksum computed on the host).
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { RemedyError } from '../errors.js';
import type { WrappedCommand } from '../shell/become.js';
import { shellQuote } from '../shell/quote.js';
import { abortReason } from './semaphore.js';
import type { ExecOptions, ExecResult, FetchResult } from './types.js';

export class FetchError extends RemedyError {
  readonly host: string;
  constructor(host: string, message: string) {
    super(`${host}: ${message}`);
    this.host = host;
  }
}

/** A command whose stdout is consumed as a stream, with backpressure (pause/resume). */
export interface CommandStream {
  stdout: Readable;
  /** Resolves when the command ended, with its stderr (bounded). */
  done: Promise<{ exitCode: number | null; signal: string | null; stderr: string }>;
  /** Stops the command early (abort, or the local write failed). */
  kill(): void;
}

/** What fetchThroughCommand needs from a transport. */
export interface CommandRunner {
  readonly host: string;
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  stream(command: string, stdin: string | undefined, signal: AbortSignal | undefined): Promise<CommandStream>;
}

/** Copies a readable into `path`, hashing on the way; honours backpressure. */
export function writeStreamToFile(src: Readable, path: string, signal?: AbortSignal): Promise<FetchResult> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    let settled = false;
    const out = createWriteStream(path, { mode: 0o600 });
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      src.pause();
      out.destroy();
      reject(err);
    };
    const onAbort = () => fail(abortReason(signal));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    src.on('data', (chunk: Buffer) => {
      if (settled) return;
      hash.update(chunk);
      bytes += chunk.length;
      if (!out.write(chunk)) {
        src.pause();
        out.once('drain', () => src.resume());
      }
    });
    src.once('end', () => out.end());
    src.once('error', fail);
    out.once('error', fail);
    out.once('close', () => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      resolve({ bytes, sha256: hash.digest('hex') });
    });
  });
}

/**
 * sha256 and size of a local file (or of its first `length` bytes). Reads into one reused
 * buffer: a 200 MB artifact would otherwise leave ~30 MB of garbage chunks awaiting GC.
 */
export async function hashFile(path: string, length?: number): Promise<FetchResult> {
  const hash = createHash('sha256');
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1024 * 1024);
    let bytes = 0;
    for (;;) {
      const want = length === undefined ? buf.length : Math.min(buf.length, length - bytes);
      if (want <= 0) break;
      const { bytesRead } = await fh.read(buf, 0, want, bytes);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      bytes += bytesRead;
    }
    return { bytes, sha256: hash.digest('hex') };
  } finally {
    await fh.close();
  }
}

/** Writes through `<path>.part`, renamed into place only when `produce` succeeded. */
export async function writeAtomically<T>(localPath: string, produce: (partPath: string) => Promise<T>): Promise<T> {
  await mkdir(dirname(localPath), { recursive: true });
  const part = `${localPath}.part`;
  try {
    const result = await produce(part);
    await rename(part, localPath);
    return result;
  } catch (err) {
    await rm(part, { force: true });
    throw err;
  }
}

function normalize(w: string | WrappedCommand): WrappedCommand {
  return typeof w === 'string' ? { command: w } : w;
}

/**
 * Fetches a file through commands run as another user (`wrap` applies become). The size is
 * read first and exactly that many bytes are copied and checksummed on the host, so a log that
 * grows during the copy still verifies (its first `size` bytes do not change).
 */
export async function fetchThroughCommand(
  runner: CommandRunner,
  remotePath: string,
  localPath: string,
  wrap: (cmd: string) => string | WrappedCommand,
  signal?: AbortSignal,
): Promise<FetchResult> {
  const path = shellQuote(remotePath);
  const run = async (cmd: string) => {
    const w = normalize(wrap(cmd));
    return runner.exec(w.command, { stdin: w.stdinPrefix, signal, maxBufferBytes: 64 * 1024 });
  };
  const sizeRes = await run(`wc -c < ${path}`);
  const size = Number(sizeRes.stdout.trim());
  if (sizeRes.exitCode !== 0 || !Number.isSafeInteger(size)) {
    throw new FetchError(runner.host, `cannot read ${remotePath}: ${oneLine(sizeRes.stderr) || `exit ${sizeRes.exitCode ?? sizeRes.signal}`}`);
  }
  const copy = normalize(wrap(`head -c ${size} ${path}`));
  const hashCmd = `head -c ${size} ${path} | { sha256sum 2>/dev/null || shasum -a 256; }`;
  const [local, remote] = await Promise.all([
    writeAtomically(localPath, async (part) => {
      const stream = await runner.stream(copy.command, copy.stdinPrefix, signal);
      let written: FetchResult;
      try {
        written = await writeStreamToFile(stream.stdout, part, signal);
      } catch (err) {
        stream.kill();
        await stream.done.catch(() => undefined);
        throw err;
      }
      const end = await stream.done;
      if (end.exitCode !== 0) {
        throw new FetchError(runner.host, `reading ${remotePath} failed (exit ${end.exitCode ?? end.signal}): ${oneLine(end.stderr)}`);
      }
      if (written.bytes !== size) throw new FetchError(runner.host, `fetched ${written.bytes} bytes of ${remotePath}, expected ${size}`);
      return written;
    }),
    run(hashCmd),
  ]);
  const remoteSum = /^[0-9a-f]{64}\b/.exec(remote.stdout.trim())?.[0];
  if (remote.exitCode !== 0 || !remoteSum) {
    await rm(localPath, { force: true });
    throw new FetchError(runner.host, `cannot checksum ${remotePath} on the host: ${oneLine(remote.stderr) || `exit ${remote.exitCode}`}`);
  }
  if (remoteSum !== local.sha256) {
    await rm(localPath, { force: true });
    throw new FetchError(runner.host, `checksum mismatch for ${remotePath}: host has sha256 ${remoteSum}, copy has ${local.sha256}`);
  }
  return local;
}

export function oneLine(s: string): string {
  return s.trim().split('\n').slice(-3).join(' / ').slice(0, 500);
}
