// journal.jsonl: the run's record of truth. Append-only, one JSON event per line, each line
// written with one write(2) before write() returns, so a controller killed at any moment leaves
// every earlier event in the file and at worst one partial last line, which readers skip and
// report. The file is never rewritten; a resumed run appends to it.
//
// fsync (surviving a crash of the machine, not just of the controller) costs 1-2 ms per call on
// an ordinary disk, and it blocks the event loop. Durability 'event' (the default) fsyncs every
// event. 'mutations' fsyncs at once every event resume depends on (run and step boundaries,
// decisions, approvals, locks, anything about a mutating step) and lets the events of read-only
// steps share one fsync per event-loop turn: a 100-host fan-out then does not pay 1000 fsyncs.
import { closeSync, fstatSync, fsyncSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { RemedyError } from '../errors.js';
import type { EventSink, RunEvent } from '../engine/events.js';
import type { Redactor } from '../redact/redactor.js';
import { fsyncDir, writeAll } from './atomic.js';
import { RUN_FILES } from './run-dir.js';

export type JournalDurability = 'event' | 'mutations';

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
  #syncPending: NodeJS.Immediate | null = null;
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
    if (this.#syncPending) clearImmediate(this.#syncPending);
    this.#syncPending = null;
    const fd = this.#fd;
    this.#fd = null;
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
    if (this.#syncPending) clearImmediate(this.#syncPending);
    this.#syncPending = null;
    if (this.#fd !== null) fsyncSync(this.#fd);
  }

  #syncSoon(): void {
    if (this.#syncPending) return;
    this.#syncPending = setImmediate(() => {
      this.#syncPending = null;
      try {
        if (this.#fd !== null) fsyncSync(this.#fd);
      } catch (err) {
        this.#syncError = err as Error;
      }
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
    problems.push({ line: i + 1, message: partial ? `partial last line (the controller stopped while writing it): ${problem}` : problem, excerpt: line.slice(0, 120) });
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
