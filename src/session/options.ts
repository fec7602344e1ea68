// What every front end (the CLI's run, guide and resume; `remedy serve`'s workers) says about a
// session: how many hosts at once, how the console shows it, how SSH is verified and kept alive.
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { runTimestamp } from '../journal/run-dir.js';
import type { ConsoleOutput } from '../ui/console.js';

export const OUTPUTS = ['text', 'jsonl'] as const satisfies readonly ConsoleOutput[];
export type OutputFormat = (typeof OUTPUTS)[number];

/** Options every session that runs a plan shares (run, resume, guide, a service worker). */
export interface SessionOptions {
  forks: number;
  output: OutputFormat;
  knownHosts?: string | undefined;
  acceptNewHostKeys?: boolean | undefined;
  breakLock?: boolean | undefined;
  /** --server-alive-interval (seconds, 0 = off) and --server-alive-count-max, over the inventory's. */
  serverAliveInterval?: number | undefined;
  serverAliveCountMax?: number | undefined;
}

/** The OS user running remedy (recorded in run-start; the default operator). */
export function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/** A new run's id: its UTC start time and a random suffix (two runs in one second differ). */
export function newRunId(now = new Date()): string {
  return `${runTimestamp(now)}-${randomBytes(3).toString('hex')}`;
}
