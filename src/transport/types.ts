// Transport: the small interface the executor runs commands through. ssh2 and local (node:child_process;
// why not zx: README, Development) implement it; become wrapping and quoting happen before a command reaches it.
import type { KillPath, WrappedCommand } from '../shell/become.js';

/** What the kill of a timed-out or aborted command did, checked on the host afterwards. */
export interface KillReport {
  /** The path the command's processes were signalled through: its become path, or the login user. */
  via: string;
  /** Signals sent, in order. */
  signals: ('TERM' | 'KILL')[];
  /** Processes of the command still alive after the last signal; null when that could not be checked. */
  left: number[] | null;
}

export interface ExecOptions {
  /**
   * Kill the remote process group after this long (TERM, then KILL after a grace period); the
   * result says timedOut. Counted from when the command starts: waiting for a channel is excluded.
   */
  timeoutMs?: number | undefined;
  /** Written to the command's stdin, then stdin is closed (sudo -S passwords travel here). */
  stdin?: string | Buffer | undefined;
  /** Live output, for the console and the full output files. */
  onStdout?: ((chunk: Buffer) => void) | undefined;
  onStderr?: ((chunk: Buffer) => void) | undefined;
  /** Aborting kills the remote process group like a timeout does. */
  signal?: AbortSignal | undefined;
  /** Keep at most this many bytes of each stream in the result (default 1 MiB); the rest only streams. */
  maxBufferBytes?: number | undefined;
  /** The become path the command runs under: a timeout kills through it too. */
  killPath?: KillPath | undefined;
}

export interface ExecResult {
  /** null when the process died of a signal or the server sent no exit status. */
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** True when options.signal aborted the command (its process group was killed, or it never started). */
  aborted?: boolean | undefined;
  /** True when stdout/stderr were cut to maxBufferBytes. */
  truncated: boolean;
  durationMs: number;
  /** Set when the command was killed (timeout or abort): what was done, and what is left. */
  kill?: KillReport | undefined;
}

export interface FetchResult {
  bytes: number;
  sha256: string;
}

export interface FetchOptions {
  /** A user whose rights are needed to read the file: streams `cat` through become as that user. */
  readAs?: string | undefined;
  /** Explicit become rewrite for the read (wins over readAs); may carry a sudo password for stdin. */
  becomeWrap?: ((cmd: string) => string | WrappedCommand) | undefined;
  signal?: AbortSignal | undefined;
}

export interface Transport {
  readonly host: string;
  /** Opens the connection (lazily called by exec/fetch too). Throws UnreachableError. */
  connect(): Promise<void>;
  /** Runs a command through the remote user's shell. Never throws for non-zero exit. */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /**
   * Streams a remote file to a local path with constant memory and verifies it.
   * `readAs`: a user whose rights are needed to read it (streams `cat` through become).
   */
  fetch(remotePath: string, localPath: string, options?: FetchOptions): Promise<FetchResult>;
  close(): Promise<void>;
}
