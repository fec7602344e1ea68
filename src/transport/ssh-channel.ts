// One command on one ssh2 exec channel: output drained and bounded, exit status read on
// `close`, and a timeout or abort that kills the remote process group through a second exec.
import type { Client, ClientChannel } from 'ssh2';
import { UnreachableError } from '../errors.js';
import { SUDO_PROMPT_MARKER, type WrappedCommand } from '../shell/become.js';
import { MarkerStripper, OutputSink, PgidMarkerFilter } from './output.js';
import { killProcessGroupCommand, parseSignaled, signalTreeCommand, survivorsCommand } from './process-group.js';
import type { ExecOptions, ExecResult, KillReport } from './types.js';

/** A live connection and what is known about its end. */
export interface SshConnection {
  client: Client;
  /** Set when the connection closed; channels closing afterwards were cut off, not finished. */
  dead: boolean;
  /** The last connection-level error (e.g. "Keepalive timeout"). */
  reason: string;
}

export function openExecChannel(conn: SshConnection, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    try {
      conn.client.exec(command, (err, ch) => (err ? reject(err) : resolve(ch)));
    } catch (err) {
      // ssh2 throws synchronously when the connection is no longer writable.
      reject(err as Error);
    }
  });
}

/** The exit status ssh2 recorded on a channel (`_exit`), whether or not 'exit' was heard. */
export function recordedExit(ch: ClientChannel): { exitCode: number | null; exitSignal: string | null } {
  const rec = (ch as unknown as { _exit?: { code?: number | null; signal?: string | null } })._exit;
  if (rec && typeof rec.code === 'number') return { exitCode: rec.code, exitSignal: null };
  if (rec && typeof rec.signal === 'string') return { exitCode: null, exitSignal: normalizeSignal(rec.signal) };
  return { exitCode: null, exitSignal: null };
}

export function normalizeSignal(sig: string | null | undefined): string | null {
  if (!sig) return null;
  return sig.startsWith('SIG') ? sig : `SIG${sig}`;
}

/** How long a kill waits for a command that has not started yet to announce its process group. */
const PGID_WAIT_MS = 10_000;

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * Runs a short control command (the kill, the survivor check) on its own channel, outside the
 * channel semaphore: the cap leaves sshd's last sessions free for exactly this. Bounded by
 * `waitMs`; returns its stdout, or null when it did not finish in time.
 */
async function runControl(conn: SshConnection, command: WrappedCommand, waitMs: number): Promise<string | null> {
  const done = openExecChannel(conn, command.command).then(
    (ch) =>
      new Promise<string>((resolve) => {
        let out = '';
        ch.on('data', (d: Buffer) => (out += d.toString()));
        ch.stderr.resume();
        ch.on('error', () => undefined);
        ch.once('close', () => resolve(out));
        if (command.stdinPrefix !== undefined) ch.write(command.stdinPrefix);
        ch.end();
      }),
    () => null,
  );
  return Promise.race([done, delay(waitMs).then(() => null)]);
}

export interface ChannelRunContext {
  host: string;
  conn: SshConnection;
  killGraceMs: number;
  started: number;
}

/** Drives an opened channel (running a process-group-wrapped command) to its result. */
export function runOnChannel(ctx: ChannelRunContext, ch: ClientChannel, options: ExecOptions): Promise<ExecResult> {
  const { conn, host, killGraceMs, started } = ctx;
  const limit = options.maxBufferBytes ?? 1024 * 1024;
  let announcePgid: (pgid: number) => void = () => undefined;
  const pgidKnown = new Promise<number>((r) => (announcePgid = r));
  const stdout = new OutputSink(limit, options.onStdout);
  const stderr = new OutputSink(limit, options.onStderr, [new PgidMarkerFilter((p) => announcePgid(p)), new MarkerStripper(SUDO_PROMPT_MARKER)]);

  return new Promise<ExecResult>((resolve, reject) => {
    let exitCode: number | null = null;
    let exitSignal: string | null = null;
    let timedOut = false;
    let aborted = false;
    let killReport: KillReport | undefined;
    /** The kill in progress: the result waits for its survivor check, so the report is complete. */
    let killDone: Promise<void> | null = null;
    let finished = false;
    let timer: NodeJS.Timeout | undefined;

    const finish = () => {
      if (finished) return;
      finished = true;
      // ssh2 can emit 'exit' before the exec callback hands us the channel, i.e. before our
      // listener exists; it also records the status on the channel, so read it from there.
      if (exitCode === null && exitSignal === null) ({ exitCode, exitSignal } = recordedExit(ch));
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      stdout.end();
      stderr.end();
      if (conn.dead && exitCode === null && exitSignal === null && !timedOut && !aborted) {
        reject(new UnreachableError(host, `connection lost while a command was running${conn.reason ? ` (${conn.reason})` : ''}`));
        return;
      }
      resolve({
        exitCode,
        signal: exitSignal,
        stdout: stdout.buffer.toString(),
        stderr: stderr.buffer.toString(),
        timedOut,
        aborted,
        truncated: stdout.buffer.truncated || stderr.buffer.truncated,
        durationMs: Math.round(performance.now() - started),
        kill: killReport,
      });
    };

    const closed = new Promise<void>((r) => ch.once('close', () => r()));
    const closedWithin = (ms: number) => Promise.race([closed.then(() => true), delay(ms).then(() => false)]);

    // TERM everything the command started, through its become path (a root command is out of the
    // login user's reach) and as the login user (sudo itself); KILL what is still alive after the
    // grace period; then check on the host what is left, so the report says what really happened.
    // If the channel still does not close (connection frozen), give up on it locally so the
    // caller is never stuck.
    const killPath = options.killPath;
    const asBecome = (cmd: string): WrappedCommand => (killPath ? killPath.wrap(cmd) : { command: cmd });
    const kill = (): Promise<void> => {
      killDone ??= killOnce();
      return killDone;
    };
    const killOnce = async () => {
      // On a loaded host the command may not have started (nor said its process group) when the
      // timer fires: wait for it rather than closing the channel on a process that then runs on.
      const pgid = await Promise.race([pgidKnown, closed.then(() => null), delay(Math.max(killGraceMs, PGID_WAIT_MS)).then(() => null)]);
      if (pgid !== null && !conn.dead) {
        const report: KillReport = { via: killPath ? killPath.label : 'the login user', signals: [], left: null };
        killReport = report;
        // The pids signalled so far; null while the host never said which (then nothing can be checked).
        const signalAll = async (sig: 'TERM' | 'KILL', known: number[] | null): Promise<number[] | null> => {
          report.signals.push(sig);
          // The tree first: once sudo dies, its children are reparented and no longer found by it.
          const tree = await runControl(conn, asBecome(signalTreeCommand(pgid, sig, known ?? [])), killGraceMs);
          if (killPath) await runControl(conn, { command: killProcessGroupCommand(pgid, sig) }, killGraceMs);
          const now = parseSignaled(tree ?? '');
          return now === null ? known : [...new Set([...(known ?? []), ...now])];
        };
        const leftOf = async (pids: number[] | null): Promise<number[] | null> =>
          pids === null ? null : pids.length === 0 ? [] : parseSignaled((await runControl(conn, asBecome(survivorsCommand(pids)), killGraceMs)) ?? '');
        let pids = await signalAll('TERM', null);
        const closedAfterTerm = await closedWithin(killGraceMs);
        let left = await leftOf(pids);
        if (!closedAfterTerm || left === null || left.length > 0) {
          pids = await signalAll('KILL', pids);
          await closedWithin(killGraceMs);
          left = await leftOf(pids);
        }
        report.left = left;
        if (await closedWithin(0)) return;
      }
      try {
        ch.close();
      } catch {
        // already closing
      }
      if (!(await closedWithin(killGraceMs))) finish();
    };
    const onAbort = () => {
      aborted = true;
      void kill();
    };

    ch.on('data', (d: Buffer) => stdout.write(d));
    ch.stderr.on('data', (d: Buffer) => stderr.write(d));
    ch.on('exit', (code: number | null | undefined, sig?: string) => {
      if (typeof code === 'number') exitCode = code;
      else exitSignal = normalizeSignal(sig);
    });
    ch.once('close', () => (killDone ? void killDone.then(finish, finish) : finish()));
    ch.on('error', () => undefined);

    if (options.stdin !== undefined) ch.write(options.stdin);
    // A fast command's channel may have closed (and ssh2 ended it) before this runs; end() on an
    // ended stream only builds an error nobody sees, with a stack trace, once per command.
    if (!ch.writableEnded) ch.end();

    if (options.timeoutMs !== undefined && options.timeoutMs > 0) {
      timer = setTimeout(() => {
        timedOut = true;
        void kill();
      }, options.timeoutMs);
    }
    if (options.signal) {
      if (options.signal.aborted) onAbort();
      else options.signal.addEventListener('abort', onAbort, { once: true });
    }
  });
}
