// Everything a run leaves in its directory, as one sink: the journal as events arrive, then at
// the end result.json and report.md. The run command passes it to the executor beside the
// console sink.
import type { EventSink, RunEvent } from '../engine/events.js';
import type { Redactor } from '../redact/redactor.js';
import { JournalSink, type JournalDurability } from './journal.js';
import { writeReport } from './report.js';
import { ResultSink, type RunResultJson } from './result.js';
import { runDirPaths, type RunDir } from './run-dir.js';

export interface RunRecordOptions {
  redactor?: Redactor | undefined;
  durability?: JournalDurability | undefined;
  /** Write report.md on close (default true). */
  report?: boolean | undefined;
}

export class RunRecordSink implements EventSink {
  readonly dir: RunDir;
  readonly #journal: JournalSink;
  readonly #result: ResultSink;
  readonly #options: RunRecordOptions;
  #closed = false;

  constructor(dir: RunDir | string, options: RunRecordOptions = {}) {
    this.dir = typeof dir === 'string' ? runDirPaths(dir) : dir;
    this.#options = options;
    this.#journal = new JournalSink(this.dir.path, options.redactor ?? null, { durability: options.durability });
    this.#result = new ResultSink(this.dir.path, options.redactor);
  }

  write(event: RunEvent): void {
    this.#journal.write(event);
    this.#result.write(event);
  }

  /** result.json's content so far. */
  get result(): RunResultJson {
    return this.#result.result;
  }

  /** Closes the journal, then writes result.json and report.md (each atomically). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#journal.close();
    } finally {
      await this.#result.close();
      if (this.#options.report !== false) writeReport(this.dir.path, { redactor: this.#options.redactor });
    }
  }
}
