// Small helpers shared by the transport tests (not a test file itself).
import { readFileSync } from 'node:fs';
import type { BecomeSettings, Connection, Host, Inventory } from '../../src/inventory/types.js';

export function makeHost(name: string, connection: Connection, become: Partial<BecomeSettings> = {}): Host {
  return { name, groups: ['all'], vars: {}, connection, become: { always: false, method: 'sudo', user: 'root', ...become } };
}

export function makeInventory(hosts: Host[]): Inventory {
  return { source: 'test', hosts: new Map(hosts.map((h) => [h.name, h])), groups: new Map() };
}

/** True when the process no longer exists (or is a zombie awaiting its reaper). */
export function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

export async function waitFor(cond: () => boolean, timeoutMs: number, stepMs = 25): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (cond()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export function readPid(file: string): number {
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no pid in ${file}`);
  return pid;
}

/** Values that run code if they ever reach a shell unquoted. `CANARY` is replaced by a path. */
export const HOSTILE_VALUES = [
  '$(touch CANARY)',
  '`touch CANARY`',
  "'; touch CANARY; '",
  '"; touch CANARY; "',
  'x\ntouch CANARY',
  '$(touch CANARY)\'"`',
  '; touch CANARY #',
  '| touch CANARY',
  '&& touch CANARY',
  '${IFS}touch${IFS}CANARY',
  "\\'; touch CANARY; \\'",
  '*',
  '',
  "it's",
];
