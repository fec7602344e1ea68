// `--output jsonl`: every event, host-output included, as one JSON line on stdout, for machines.
// Events reach sinks already redacted (the executor redacts; createConsoleSink redacts again).
import type { EventSink, RunEvent } from '../engine/events.js';

export class JsonlSink implements EventSink {
  readonly #out: NodeJS.WritableStream;

  constructor(out: NodeJS.WritableStream = process.stdout) {
    this.#out = out;
  }

  write(event: RunEvent): void {
    this.#out.write(`${JSON.stringify(event)}\n`);
  }

  async close(): Promise<void> {
    // Wait until what was written is handed to the OS, so a process exiting right after loses nothing.
    await new Promise<void>((resolve) => {
      this.#out.write('', () => resolve());
    });
  }
}
