// journal.jsonl: the run's record of truth. Append-only, one JSON event per line, each line
// written with one write(2) before write() returns, so a controller killed at any moment leaves
// every earlier event in the file and at worst one partial last line, which readers skip and
// report. The file is never rewritten; a resumed run appends to it.
//
// fsync (surviving a crash of the machine, not just of the controller) costs 1-2 ms per call on
// an ordinary disk (far more on a busy one), and fsyncSync blocks the event loop. Durability
// 'event' (the default) fsyncs every event. 'mutations' fsyncs at once every event resume
// depends on (run boundaries, decisions, approvals, locks, anything about a mutating step) and
// lets the events of read-only steps, their step-start and step-end included, share one fsync
// per 100 ms, run on libuv's thread pool: a 100-host fan-out then does not pay 1000 fsyncs, and
// a 50-step diagnosis neither waits for the disk between steps nor wakes the thread pool for an
// fsync at every step. Each line is still written (write(2)) before write() returns. Losing the tail of
// read-only events to a machine crash costs only a re-run of read-only steps on resume, as a
// controller killed mid-step does; the next event that is fsync'd at once makes every earlier
// line durable too (fsync covers the whole file).
import { closeSync, fstatSync, fsync, fsyncSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { EventSink, RunEvent } from '../engine/events.js';
import { RemedyError } from '../errors.js';
import type { Redactor } from '../redact/redactor.js';
import { fsyncDir, writeAll } from './atomic.js';
import { RUN_FILES } from './run-dir.js';

export type JournalDurability = 'event' | 'mutations';

/**
 * How long read-only events wait for their shared fsync (durability 'mutations'). One fsync per
 * event-loop turn was one per step of a fast diagnosis; a 100-host, 5-step fan-out made 102
 * fsyncs in all, 38 with this.
 */
const READ_ONLY_SYNC_MS = 100;

export interface JournalOptions {
  /** Default 'event': every event is fsync'd before write() returns. */
  durability?: JournalDurability | undefined;
}

export class JournalSink implements EventSink {
  readonly path: string;
  readonly #redactor: Redactor | null;
  readonly #durability: JournalDurability;
  #fd: number | null;
  /** Steps that mutate (from their step-start), for durability 'mutations'. */
  readonly #mutating = new Set<string>();
  #syncPending: NodeJS.Timeout | null = null;
  /** The deferred fsync running on the thread pool, if any; close() waits for it. */
  #syncInFlight: Promise<void> | null = null;
  /** Lines written since the deferred fsync in flight started: it must run once more. */
  #syncAgain = false;
  /** A deferred fsync that failed: reported by the next write or close (never swallowed). */
  #syncError: Error | null = null;

  /**
   * `dirOrFile`: the run directory (journal.jsonl inside it) or the journal file itself.
   * An existing journal (resume) is appended to.
   */
  constructor(dirOrFile: string, redactor: Redactor | null = null, options: JournalOptions = {}) {
    this.path = dirOrFile.endsWith('.jsonl') ? dirOrFile : join(dirOrFile, RUN_FILES.journal);
    this.#redactor = redactor;
    this.#durability = options.durability ?? 'event';
    try {
      // 'a+': every write goes to the end (O_APPEND); reading is only for the last-byte check below.
      this.#fd = openSync(this.path, 'a+', 0o600);
      // A previous controller killed mid-line left no newline: end that line, so the partial
      // line stays on its own and the next event starts a line of its own.
      if (!endsWithNewline(this.#fd)) writeAll(this.#fd, Buffer.from('\n'));
      fsyncSync(this.#fd);
    } catch (err) {
      throw new RemedyError(`cannot open the journal ${this.path}: ${(err as Error).message}`);
    }
    fsyncDir(join(this.path, '..'));
  }

  write(event: RunEvent): void {
    // Full outputs live in outputs/; the live lines views get would only bloat the journal.
    if (event.type === 'host-output') return;
    if (this.#fd === null) throw new Error(`journal ${this.path}: event #${event.seq} (${event.type}) written after close`);
    this.#throwSyncError();
    const clean = this.#redactor && !this.#redactor.empty ? this.#redactor.redactValue(event) : event;
    const line = Buffer.from(`${JSON.stringify(clean)}\n`, 'utf8');
    try {
      writeAll(this.#fd, line);
      if (this.#syncNow(event)) this.#sync();
      else this.#syncSoon();
    } catch (err) {
      throw new RemedyError(`cannot write the journal ${this.path} (event #${event.seq} ${event.type}): ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {
    if (this.#fd === null) return;
    if (this.#syncPending) clearTimeout(this.#syncPending);
    this.#syncPending = null;
    this.#syncAgain = false;
    // The descriptor must outlive a deferred fsync still running on it.
    if (this.#syncInFlight) await this.#syncInFlight;
    const fd = this.#fd;
    this.#fd = null;
    if (fd === null) return;
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.#throwSyncError();
  }

  #throwSyncError(): void {
    if (this.#syncError) throw new RemedyError(`cannot write the journal ${this.path}: fsync failed: ${this.#syncError.message}`);
  }

  #syncNow(event: RunEvent): boolean {
    if (event.type === 'step-start' && event.mutates) this.#mutating.add(event.step);
    if (this.#durability === 'event') return true;
    switch (event.type) {
      case 'step-start':
        return event.mutates;
      case 'step-end':
      case 'host-start':
      case 'host-end':
        return this.#mutating.has(event.step);
      case 'warning':
        return false;
      default:
        return true;
    }
  }

  #sync(): void {
    if (this.#syncPending) clearTimeout(this.#syncPending);
    this.#syncPending = null;
    // Covers every line written so far, those a deferred fsync in flight was started for too.
    this.#syncAgain = false;
    if (this.#fd !== null) fsyncSync(this.#fd);
  }

  #syncSoon(): void {
    if (this.#syncInFlight) {
      this.#syncAgain = true;
      return;
    }
    if (this.#syncPending) return;
    this.#syncPending = setTimeout(() => {
      this.#syncPending = null;
      this.#syncInBackground();
    }, READ_ONLY_SYNC_MS);
    // close() fsyncs whatever is left: the timer alone must not keep the process alive.
    this.#syncPending.unref();
  }

  /** One fsync on the thread pool; lines written meanwhile get one more when it is done. */
  #syncInBackground(): void {
    const fd = this.#fd;
    if (fd === null) return;
    this.#syncAgain = false;
    this.#syncInFlight = new Promise<void>((resolve) => {
      fsync(fd, (err) => {
        if (err) this.#syncError ??= err;
        this.#syncInFlight = null;
        resolve();
        if (this.#syncAgain && this.#fd !== null) this.#syncSoon();
      });
    });
  }
}

function endsWithNewline(fd: number): boolean {
  const size = fstatSync(fd).size;
  if (size === 0) return true;
  const buf = Buffer.alloc(1);
  readSync(fd, buf, 0, 1, size - 1);
  return buf[0] === 0x0a;
}

// ---------------------------------------------------------------------------------------------
// Reading

/** A line that is not an event: a partial last line after a crash, or damage. */
export interface JournalProblem {
  /** 1-based line number in journal.jsonl. */
  line: number;
  message: string;
  /** The first characters of the line, for the report. */
  excerpt: string;
}

export interface JournalRead {
  path: string;
  events: RunEvent[];
  /** Lines skipped, with why. */
  problems: JournalProblem[];
  /** True when the last line was partial (the controller stopped while writing it). */
  truncated: boolean;
}

/** Reads a run's journal tolerantly: every parseable event, and what could not be read. */
export function readJournal(dirOrFile: string): JournalRead {
  const path = dirOrFile.endsWith('.jsonl') ? dirOrFile : join(dirOrFile, RUN_FILES.journal);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RemedyError(`cannot read the journal ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return { path, ...parseJournal(text) };
}

export function parseJournal(text: string): Omit<JournalRead, 'path'> {
  const events: RunEvent[] = [];
  const problems: JournalProblem[] = [];
  const lines = text.split('\n');
  // A complete journal ends with a newline: the last element is then ''. Anything else there
  // was being written when the controller stopped.
  const last = lines.length - 1;
  let truncated = false;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const partial = i === last;
    const problem = checkEventLine(line);
    if (problem === null) {
      events.push(JSON.parse(line) as RunEvent);
      return;
    }
    if (partial) truncated = true;
    problems.push({
      line: i + 1,
      message: partial ? `partial last line (the controller stopped while writing it): ${problem}` : problem,
      excerpt: line.slice(0, 120),
    });
  });
  return { events, problems, truncated };
}

function checkEventLine(line: string): string | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const o = value as Record<string, unknown>;
  if (typeof o.type !== 'string') return 'no event type';
  if (typeof o.seq !== 'number' || typeof o.time !== 'string') return `event ${o.type} without seq/time`;
  return null;
}
