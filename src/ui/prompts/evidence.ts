// What the diagnosis left behind, for the operator at a decision: an event sink that remembers,
// per step and host, how the step ended, the facts it captured and where its full output is, and
// reads the "log lines" out of those outputs (the lines a capture did not turn into a fact).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { EventSink, HostEvidence, HostStatus, RunEvent } from '../../engine/events.js';

export interface HostRecord {
  status: HostStatus;
  exitCode: number | null;
  facts: Record<string, unknown>;
  /** Relative to the run dir. */
  outputs?: { stdout: string; stderr: string } | undefined;
  error?: string | undefined;
  /** The lines the runbook marks as evidence (`evidence:`). */
  evidence?: HostEvidence | undefined;
}

export interface StepRecord {
  step: string;
  name: string;
  mutates: boolean;
  hosts: Map<string, HostRecord>;
  /** The step's hosts in inventory order (records arrive in completion order). */
  order: string[];
}

/** How much of an output file is read for log lines and tails (its end). */
const TAIL_BYTES = 64 * 1024;

export class EvidenceLog implements EventSink {
  /** Steps in the order they started. */
  readonly steps = new Map<string, StepRecord>();
  readonly #runDir: string | null;

  constructor(runDir: string | null) {
    this.#runDir = runDir;
  }

  write(ev: RunEvent): void {
    if (ev.type === 'step-start') {
      if (!this.steps.has(ev.step)) this.steps.set(ev.step, { step: ev.step, name: ev.name, mutates: ev.mutates, hosts: new Map(), order: ev.hosts });
      return;
    }
    if (ev.type !== 'host-end' || ev.phase === 'verify') return;
    const step = this.steps.get(ev.step);
    if (!step) return;
    step.hosts.set(ev.host, {
      status: ev.status,
      exitCode: ev.exitCode,
      facts: ev.facts ?? {},
      outputs: ev.outputs,
      error: ev.error ?? ev.reason,
      evidence: ev.evidence,
    });
  }

  async close(): Promise<void> {}

  /** The read-only steps that ran before now (the diagnosis), in order. */
  diagnosis(): StepRecord[] {
    return [...this.steps.values()].filter((s) => !s.mutates && s.hosts.size > 0);
  }

  /** Every fact captured so far, per host (later steps win, as in the run's state). */
  facts(): Map<string, Record<string, unknown>> {
    const out = new Map<string, Record<string, unknown>>();
    for (const s of this.steps.values()) {
      for (const [host, r] of inOrder(s)) out.set(host, { ...(out.get(host) ?? {}), ...r.facts });
    }
    return out;
  }

  /** Host statuses of the diagnosis, counted. */
  counts(): Record<HostStatus, number> {
    const counts: Record<HostStatus, number> = { ok: 0, changed: 0, failed: 0, 'timed-out': 0, unreachable: 0, skipped: 0 };
    for (const s of this.diagnosis()) for (const r of s.hosts.values()) counts[r.status]++;
    return counts;
  }

  /**
   * Log lines of the diagnosis: per step and host, the last `perHost` stdout lines that are not
   * bare `key=value` pairs (those became facts) nor blank; at most `max` in all.
   */
  logLines(perHost = 3, max = 12): { step: string; host: string; line: string }[] {
    const out: { step: string; host: string; line: string }[] = [];
    const steps = this.diagnosis();
    // A runbook that marks its evidence says which lines matter: only those, all of them.
    if (steps.some((s) => [...s.hosts.values()].some((r) => r.evidence !== undefined))) {
      for (const s of steps) for (const [host, r] of inOrder(s)) for (const line of r.evidence?.lines ?? []) out.push({ step: s.step, host, line });
      return out;
    }
    for (const s of steps) {
      for (const [host, r] of inOrder(s)) {
        if (!r.outputs) continue;
        const lines = tailLines(this.path(r.outputs.stdout), 200).filter((l) => l.trim() !== '' && !/^\s*[\w.-]+=\S*\s*$/.test(l));
        for (const line of lines.slice(-perHost)) out.push({ step: s.step, host, line });
      }
    }
    return out.slice(-max);
  }

  /** An absolute path for a run-dir-relative one (null without a run dir). */
  path(relative: string): string | null {
    return this.#runDir === null ? null : join(this.#runDir, relative);
  }
}

/** A step's host records in inventory order. */
export function inOrder(s: StepRecord): [string, HostRecord][] {
  const rank = (h: string) => (s.order.includes(h) ? s.order.indexOf(h) : s.order.length);
  return [...s.hosts].sort(([a], [b]) => rank(a) - rank(b));
}

/** The last `n` lines of a file (read from its last 64 KiB); [] when it cannot be read. */
export function tailLines(file: string | null, n: number): string[] {
  if (file === null) return [];
  let fd: number | null = null;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    const len = Math.min(size, TAIL_BYTES);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    const lines = buf.toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    // A cut first line is only part of a line.
    if (size > len) lines.shift();
    return lines.slice(-n);
  } catch {
    return [];
  } finally {
    if (fd !== null) closeSync(fd);
  }
}
