// Local process plumbing for the lab: run a command with a time limit, look at a pid, stop a pid,
// make a bounded HTTP request. Processes are always addressed by pid, never by name.
// Programs run through zx: its quoting is bash's, which is right here (a local bash, never a
// remote shell), and every argument is one quoted word, so nothing in an argument is shell code.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { RemedyError } from '../errors.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** bash's exit status for a program it cannot find (or cannot execute as one). */
const NOT_FOUND = 127;

/**
 * Runs a program, every argument quoted as one word, and resolves with its exit code and output;
 * never rejects on exit codes. Killed by SIGKILL after `timeoutMs` (then code 1, as a signal
 * death has no exit code).
 */
export async function run(file: string, args: readonly string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<RunResult> {
  // Loaded on first use: `remedy --help` and the commands that run no lab program skip zx.
  const { $ } = await import('zx/core');
  // No `set -euo pipefail` prefix: this is one program, and its exit code is the answer.
  const sh = $({
    quiet: true,
    nothrow: true,
    prefix: '',
    timeout: opts.timeoutMs ?? 60_000,
    timeoutSignal: 'SIGKILL',
    env: opts.env ?? { ...process.env, LC_ALL: 'C' },
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
  const out = await sh`exec ${file} ${args}`;
  if (out.exitCode === NOT_FOUND && /(not found|No such file or directory)\s*$/.test(out.stderr.trim())) throw new RemedyError(`${file}: not found`);
  return { code: out.exitCode ?? 1, stdout: out.stdout, stderr: out.stderr };
}

/** Like run, but a non-zero exit becomes an error that quotes the command and its stderr. */
export async function runOk(file: string, args: readonly string[], opts: { timeoutMs?: number; input?: string; what?: string } = {}): Promise<RunResult> {
  const r = await run(file, args, opts);
  if (r.code !== 0) {
    const detail = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-5).join('\n');
    throw new RemedyError(`${opts.what ?? `${file} ${args.join(' ')}`} failed (exit ${r.code})${detail ? `:\n${detail}` : ''}`);
  }
  return r;
}

/**
 * Alive = exists and is not a zombie (this machine's init does not reap orphans). A JVM whose
 * main thread has exited shows Z for its pid while other threads still run, so those count.
 */
export function isAlive(pid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const state = /^State:\s+(\S)/m.exec(status)?.[1] ?? '';
    const threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? '0');
    return (state !== 'Z' && state !== 'X' && state !== '') || threads > 1;
  } catch {
    return false;
  }
}

export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

export function childPids(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return children === '' ? [] : children.split(/\s+/).map(Number);
  } catch {
    return [];
  }
}

export function readPidFile(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until `check` is true or the time is up; returns whether it became true. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

/** Sends SIGTERM, then SIGKILL after the grace period; resolves when every pid is gone. */
export async function stopPids(pids: readonly number[], graceMs = 5000): Promise<number[]> {
  const live = pids.filter(isAlive);
  for (const pid of live) signal(pid, 'SIGTERM');
  await waitFor(() => live.every((p) => !isAlive(p)), graceMs);
  for (const pid of live.filter(isAlive)) signal(pid, 'SIGKILL');
  await waitFor(() => live.every((p) => !isAlive(p)), 2000);
  return live.filter(isAlive);
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export interface HttpResult {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One bounded HTTP request to loopback; resolves null on connection errors or timeout. */
export function httpRequest(url: string, opts: { method?: string; timeoutMs?: number } = {}): Promise<HttpResult | null> {
  return new Promise((resolve) => {
    const req = request(url, { method: opts.method ?? 'GET', agent: false, headers: { 'User-Agent': 'remedy-lab' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', () => resolve(null));
    });
    req.setTimeout(opts.timeoutMs ?? 5000, () => {
      req.destroy();
      resolve(null);
    });
    req.on('error', () => resolve(null));
    req.end();
  });
}
