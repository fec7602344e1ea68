// Per-host run lock: before the first mutating step on a host, an atomic `mkdir` of
// ${TMPDIR:-/tmp}/remedy.lock holding an `owner` file (run id, controller, pid, time). A second
// run is refused with who holds the lock and since when; --break-lock removes a stale one. A
// resumed run takes over locks its earlier segments left behind, and releases them all when it ends.
import { shellQuote } from '../shell/quote.js';
import type { Transport } from '../transport/types.js';
import { errorMessage, hostOf, type Engine } from './context.js';
import type { LeaseAttempt } from './lease.js';
import { mapBounded } from './timing.js';

export interface LockOwner {
  runId: string;
  controller: string;
  pid: number;
  time: string;
}

export type LockAttempt =
  | { action: 'acquired'; detail?: string | undefined }
  | { action: 'broken'; previous: LockOwner | null; detail: string }
  | { action: 'refused'; previous: LockOwner | null; detail: string };

const LOCK_DIR = '"${TMPDIR:-/tmp}/remedy.lock"';
const ACQUIRED = 'REMEDY_LOCK_ACQUIRED';
const HELD = 'REMEDY_LOCK_HELD';

// The owner file is written beside and renamed into place: another name for the same machine
// (or a resumed run taking over in parallel) reading it mid-write would see it empty and call the
// holder "an unknown run".
function writeOwner(owner: LockOwner): string {
  return `printf '%s\\n' ${shellQuote(JSON.stringify(owner))} > "$d/owner.$$" && mv -f -- "$d/owner.$$" "$d/owner"`;
}

export function acquireScript(owner: LockOwner): string {
  // The holder writes its owner file just after its mkdir: give it a moment before reading.
  const waitOwner = 'i=0; while [ ! -s "$d/owner" ] && [ "$i" -lt 20 ] && [ -d "$d" ]; do sleep 0.1; i=$((i+1)); done';
  return `d=${LOCK_DIR}; if mkdir "$d" 2>/dev/null; then ${writeOwner(owner)} && echo ${ACQUIRED}; else ${waitOwner}; echo ${HELD}; cat "$d/owner" 2>/dev/null; fi`;
}

function replaceScript(owner: LockOwner, force: boolean): string {
  const prefix = force ? 'rm -rf -- "$d"; mkdir "$d" && ' : '';
  return `d=${LOCK_DIR}; ${prefix}${writeOwner(owner)} && echo ${ACQUIRED}`;
}

export function releaseScript(runIds: string[]): string {
  const tests = runIds.map((id) => `grep -qF ${shellQuote(`"runId":${JSON.stringify(id)}`)} "$d/owner"`).join(' || ');
  return `d=${LOCK_DIR}; if [ -f "$d/owner" ] && { ${tests}; }; then rm -rf -- "$d"; fi; true`;
}

export function parseOwner(text: string): LockOwner | null {
  try {
    const o = JSON.parse(text.trim()) as Partial<LockOwner>;
    if (typeof o.runId !== 'string') return null;
    return { runId: o.runId, controller: String(o.controller ?? '?'), pid: Number(o.pid ?? 0), time: String(o.time ?? '?') };
  } catch {
    return null;
  }
}

export function describeOwner(o: LockOwner | null): string {
  return o === null ? 'an unknown run (no readable owner file)' : `run ${o.runId} (controller ${o.controller}, pid ${o.pid}) since ${o.time}`;
}

/**
 * Takes the host's lock. `ours`: run ids whose locks belong to this run (itself and, on resume,
 * its earlier segments).
 */
export async function acquireLock(transport: Transport, owner: LockOwner, ours: string[], breakLock: boolean, signal?: AbortSignal): Promise<LockAttempt> {
  const r = await transport.exec(acquireScript(owner), { timeoutMs: 30_000, signal });
  const out = r.stdout.trim();
  if (r.exitCode === 0 && out.startsWith(ACQUIRED)) return { action: 'acquired' };
  if (r.exitCode !== 0 || !out.startsWith(HELD)) {
    throw new Error(`cannot take the lock: exit ${r.exitCode ?? r.signal ?? '?'} ${r.stderr.trim()}`);
  }
  const previous = parseOwner(out.slice(HELD.length));
  if (previous !== null && ours.includes(previous.runId)) {
    const t = await transport.exec(replaceScript(owner, false), { timeoutMs: 30_000, signal });
    if (t.exitCode !== 0) throw new Error(`cannot take over the lock: ${t.stderr.trim()}`);
    return { action: 'acquired', detail: `taken over from ${describeOwner(previous)}` };
  }
  if (!breakLock) return { action: 'refused', previous, detail: `locked by ${describeOwner(previous)}; if that run is gone, use --break-lock` };
  const b = await transport.exec(replaceScript(owner, true), { timeoutMs: 30_000, signal });
  if (b.exitCode !== 0 || !b.stdout.includes(ACQUIRED)) throw new Error(`cannot break the lock: ${b.stderr.trim()}`);
  return { action: 'broken', previous, detail: `broke the lock of ${describeOwner(previous)}` };
}

/** Releases the lock if one of `ours` holds it (never someone else's). */
export async function releaseLock(transport: Transport, ours: string[]): Promise<void> {
  await transport.exec(releaseScript(ours), { timeoutMs: 30_000 });
}

/**
 * Locks every host in `hosts` this run does not hold yet, in parallel. Returns the refusals
 * (hosts locked by another run); hosts that cannot be reached are left to the step to report.
 */
export async function lockHosts(e: Engine, hosts: string[]): Promise<{ host: string; detail: string }[]> {
  const owner: LockOwner = { runId: e.runId, controller: e.controller, pid: e.pid, time: new Date().toISOString() };
  const ours = [e.runId, ...e.previousRunIds];
  const refused: { host: string; detail: string }[] = [];
  await mapBounded(
    hosts.filter((h) => !e.state.locked.has(h)),
    e.forks,
    async (name) => {
      let lease = '';
      if (e.leases) {
        // No lease, no mutation: a lease that cannot be taken (held by another run, or Redis
        // away) refuses the host like a held lock does.
        const taken = await e.leases.acquire(name).catch((err: unknown): LeaseAttempt => ({ held: false, detail: `lease not taken: ${errorMessage(err)}` }));
        if (!taken.held) {
          e.emitter.emit({ type: 'lock', host: name, action: 'refused', detail: taken.detail });
          refused.push({ host: name, detail: taken.detail });
          return;
        }
        lease = `lease token ${taken.token}${taken.detail ? `, ${taken.detail}` : ''}`;
      }
      let attempt: LockAttempt;
      try {
        attempt = await acquireLock(e.transports.get(hostOf(e, name)), owner, ours, e.breakLock, e.kill);
      } catch (err) {
        // Unreachable or broken: the step's own command will fail on it and say so.
        e.emitter.emit({ type: 'warning', host: name, message: `lock: ${errorMessage(err)}` });
        return;
      }
      if (attempt.action === 'refused') {
        await e.leases?.release(name).catch(() => undefined);
        e.emitter.emit({ type: 'lock', host: name, action: 'refused', detail: attempt.detail });
        refused.push({ host: name, detail: attempt.detail });
        return;
      }
      e.state.locked.add(name);
      const detail = [attempt.detail, lease].filter(Boolean).join('; ');
      e.emitter.emit({ type: 'lock', host: name, action: attempt.action, detail: detail === '' ? undefined : detail });
    },
  );
  return refused;
}

/**
 * Releases every lock this run holds (end of run, also after failures and interruptions),
 * including those an earlier segment of a resumed run took: the release only removes a lock
 * whose owner is one of this run's ids, so another run's lock is never touched.
 */
export async function releaseHeldLocks(e: Engine): Promise<void> {
  const ours = [e.runId, ...e.previousRunIds];
  const hosts = [...new Set([...e.state.locked, ...e.state.inheritedLocks])];
  await mapBounded(hosts, e.forks, async (name) => {
    try {
      await releaseLock(e.transports.get(hostOf(e, name)), ours);
      await e.leases?.release(name);
      e.state.locked.delete(name);
      e.state.inheritedLocks.delete(name);
      e.emitter.emit({ type: 'lock', host: name, action: 'released' });
    } catch (err) {
      e.emitter.emit({ type: 'warning', host: name, message: `lock not released: ${errorMessage(err)}` });
    }
  });
}
