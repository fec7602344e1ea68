// Stamps, redacts and fans out executor events. Every event leaves through here, so no sink
// (journal, console, jsonl) ever sees a secret or an unnumbered event.
import type { Redactor } from '../redact/redactor.js';
import type { EventSink, RunEvent } from './events.js';

/** An event as the executor writes it: without time and seq. */
export type EventBody = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, 'time' | 'seq'> : never) : never;

export class Emitter {
  readonly #sinks: EventSink[];
  readonly #redactor: Redactor;
  #seq: number;

  /** `lastSeq`: the sequence number already used (a resumed run continues its journal's numbering). */
  constructor(sinks: EventSink[], redactor: Redactor, lastSeq = 0) {
    this.#sinks = sinks;
    this.#redactor = redactor;
    this.#seq = lastSeq;
  }

  get redactor(): Redactor {
    return this.#redactor;
  }

  emit(body: EventBody): RunEvent {
    const event = this.#redactor.redactValue({ time: new Date().toISOString(), seq: ++this.#seq, ...body } as RunEvent);
    for (const sink of this.#sinks) sink.write(event);
    return event;
  }
}

/** A sink that keeps every event in memory (probe results, tests). */
export class MemorySink implements EventSink {
  readonly events: RunEvent[] = [];
  write(event: RunEvent): void {
    this.events.push(event);
  }
  async close(): Promise<void> {}
}

/**
 * Notices from outside the executor (the transport's "new host key recorded") that belong in
 * the run's record: buffered until a run attaches, then emitted as warnings.
 */
export class NoticeRelay {
  #target: ((message: string, host?: string) => void) | null = null;
  readonly #pending: { message: string; host?: string | undefined }[] = [];

  push(message: string, host?: string): void {
    if (this.#target) this.#target(message, host);
    else this.#pending.push({ message, host });
  }

  attach(target: ((message: string, host?: string) => void) | null): void {
    this.#target = target;
    if (!target) return;
    for (const n of this.#pending.splice(0)) target(n.message, n.host);
  }
}
