// The console sink the CLI uses: picks the view (live listr2 on a terminal, plain lines in CI or
// a pipe, JSON lines for machines), redacts every event once more before it (a second line of
// defence: the executor already redacts), and prints the recap at the end of text output.
import type { EventSink, RunEvent } from '../engine/events.js';
import type { Redactor } from '../redact/redactor.js';
import { colorEnabled, colors } from './format.js';
import { JsonlSink } from './jsonl.js';
import type { ListrView, ListrViewOptions } from './listr-view.js';
import { PlainSink } from './plain.js';
import { RecapCounter, renderRecap } from './recap.js';

export type ConsoleOutput = 'text' | 'jsonl';

export interface ConsoleSinkOptions {
  output: ConsoleOutput;
  /** Draw the live view (a terminal); false: plain lines. Usually `process.stdout.isTTY === true`. */
  tty: boolean;
  /** Default process.stdout. */
  stream?: NodeJS.WriteStream | undefined;
  /** The run's secrets (from plan.secrets). */
  redactor?: Redactor | undefined;
  /** Default: colorEnabled(stream) (TTY, NO_COLOR, FORCE_COLOR). */
  color?: boolean | undefined;
  /** Print the per-host recap when the run ends (text output only; default true). */
  recap?: boolean | undefined;
  /** Also lock acquired/released lines (the live view hides them by default). */
  verbose?: boolean | undefined;
}

/** An event sink for the console; pause()/resume() release the terminal for prompts. */
export interface ConsoleSink extends EventSink {
  /** Stops drawing until resume() (no-op for plain and jsonl output). */
  pause(): Promise<void>;
  resume(): void;
  /** Earlier segments of a resumed run: counted in the recap (not drawn), so it covers the whole run. */
  history?(events: readonly RunEvent[]): void;
}

export function createConsoleSink(options: ConsoleSinkOptions): ConsoleSink {
  const stream = options.stream ?? process.stdout;
  const color = options.color ?? colorEnabled(stream);
  const redactor = options.redactor && !options.redactor.empty ? options.redactor : null;
  if (options.output === 'jsonl') return new ConsoleSinkImpl(new JsonlSink(stream), redactor, null, stream, color);
  const view = options.tty ? new DeferredListrView({ stream, color, verbose: options.verbose }) : new PlainSink(stream, { color });
  return new ConsoleSinkImpl(view, redactor, options.recap === false ? null : new RecapCounter(), stream, color);
}

/**
 * The live view, with listr2 loaded only when a terminal is drawn on: plain-line and JSON-lines
 * runs (CI, pipes, the bench) never load it, and a terminal run loads it while its first
 * connections are under way instead of before them. Events that arrive before the module has
 * loaded are handed over in order once it has.
 */
class DeferredListrView implements EventSink {
  #view: ListrView | null = null;
  #early: RunEvent[] = [];
  readonly #ready: Promise<ListrView>;

  constructor(options: ListrViewOptions) {
    this.#ready = import('./listr-view.js').then(({ ListrView: View }) => {
      const view = new View(options);
      for (const event of this.#early) view.write(event);
      this.#early = [];
      this.#view = view;
      return view;
    });
  }

  write(event: RunEvent): void {
    if (this.#view) this.#view.write(event);
    else this.#early.push(event);
  }

  async pause(): Promise<void> {
    await (await this.#ready).pause();
  }

  resume(): void {
    // Only after a pause(), which waited for the view.
    this.#view?.resume();
  }

  async close(): Promise<void> {
    await (await this.#ready).close();
  }
}

class ConsoleSinkImpl implements ConsoleSink {
  readonly #view: EventSink & Partial<Pick<ConsoleSink, 'pause' | 'resume'>>;
  readonly #redactor: Redactor | null;
  readonly #recap: RecapCounter | null;
  readonly #stream: NodeJS.WritableStream;
  readonly #color: boolean;
  #closed = false;

  constructor(
    view: EventSink & Partial<Pick<ConsoleSink, 'pause' | 'resume'>>,
    redactor: Redactor | null,
    recap: RecapCounter | null,
    stream: NodeJS.WritableStream,
    color: boolean,
  ) {
    this.#view = view;
    this.#redactor = redactor;
    this.#recap = recap;
    this.#stream = stream;
    this.#color = color;
  }

  write(event: RunEvent): void {
    if (this.#closed) return;
    const clean = this.#redactor ? this.#redactor.redactValue(event) : event;
    this.#recap?.add(clean);
    this.#view.write(clean);
  }

  async pause(): Promise<void> {
    await this.#view.pause?.();
  }

  history(events: readonly RunEvent[]): void {
    for (const event of events) this.#recap?.add(this.#redactor ? this.#redactor.redactValue(event) : event);
  }

  resume(): void {
    this.#view.resume?.();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#view.close();
    if (this.#recap && this.#recap.recap.hosts.size > 0) {
      const text = renderRecap(this.#recap.recap, colors(this.#color));
      this.#stream.write(`\n${this.#redactor ? this.#redactor.redact(text) : text}`);
    }
  }
}
