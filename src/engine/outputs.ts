// Full command outputs, kept in the run directory (outputs/<step>/<host>…) while they stream,
// redacted line by line, with memory bounded by one partial line. Views get a throttled feed of
// lines as host-output events; the files hold everything.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Redactor } from '../redact/redactor.js';

/** Lines passed to views per command at full rate; after that, at most one per interval. */
const LIVE_LINES_FULL_RATE = 50;
const LIVE_LINE_INTERVAL_MS = 200;
/** A line longer than this is flushed in pieces (an unbroken secret this long would be split). */
const MAX_PENDING = 64 * 1024;

/** A path-safe rendering of a host or step name for file names. */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || '_';
}

export class StreamRecorder {
  readonly #absPath: string | null;
  readonly relPath: string;
  readonly #redactor: Redactor;
  readonly #onLine: (line: string) => void;
  #file: WriteStream | null = null;
  // A multi-byte character may straddle two chunks.
  readonly #decoder = new StringDecoder('utf8');
  #pending = '';
  #bytes = 0;
  #lines = 0;
  #lastLive = 0;

  constructor(runDir: string | null, relPath: string, redactor: Redactor, onLine: (line: string) => void) {
    this.#absPath = runDir === null ? null : join(runDir, relPath);
    this.relPath = relPath;
    this.#redactor = redactor;
    this.#onLine = onLine;
  }

  write(chunk: Buffer | string): void {
    this.#bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    const text = typeof chunk === 'string' ? chunk : this.#decoder.write(chunk);
    this.#pending += text;
    let nl: number;
    while ((nl = this.#pending.indexOf('\n')) >= 0) {
      this.#emitLine(this.#pending.slice(0, nl));
      this.#pending = this.#pending.slice(nl + 1);
    }
    if (this.#pending.length > MAX_PENDING) {
      this.#writeFile(this.#redactor.redact(this.#pending));
      this.#pending = '';
    }
  }

  /** Flushes; returns the run-dir-relative path when anything was written. */
  async close(): Promise<string | null> {
    this.#pending += this.#decoder.end();
    if (this.#pending !== '') {
      const line = this.#redactor.redact(this.#pending);
      this.#pending = '';
      this.#writeFile(line);
      this.#live(line, true);
    }
    const file = this.#file;
    if (!file) return null;
    await new Promise<void>((resolve, reject) => {
      file.once('error', reject);
      file.end(() => resolve());
    });
    return this.relPath;
  }

  get bytes(): number {
    return this.#bytes;
  }

  #emitLine(raw: string): void {
    const line = this.#redactor.redact(raw.replace(/\r$/, ''));
    this.#writeFile(`${line}\n`);
    this.#live(line, false);
  }

  #live(line: string, force: boolean): void {
    this.#lines++;
    const now = Date.now();
    if (force || this.#lines <= LIVE_LINES_FULL_RATE || now - this.#lastLive >= LIVE_LINE_INTERVAL_MS) {
      this.#lastLive = now;
      this.#onLine(line);
    }
  }

  #writeFile(text: string): void {
    if (this.#absPath === null || text === '') return;
    if (!this.#file) {
      mkdirSync(dirname(this.#absPath), { recursive: true });
      this.#file = createWriteStream(this.#absPath, { flags: 'a', mode: 0o600 });
    }
    this.#file.write(text);
  }
}

export class OutputStore {
  readonly #runDir: string | null;
  readonly #redactor: Redactor;
  constructor(runDir: string | null, redactor: Redactor) {
    this.#runDir = runDir;
    this.#redactor = redactor;
  }

  /** Recorders for one command: outputs/<step>/<host>[.<label>].stdout|stderr */
  open(step: string, host: string, label: string, onLine: (stream: 'stdout' | 'stderr', line: string) => void): { stdout: StreamRecorder; stderr: StreamRecorder } {
    const base = `outputs/${safeName(step)}/${safeName(host)}${label ? `.${label}` : ''}`;
    return {
      stdout: new StreamRecorder(this.#runDir, `${base}.stdout`, this.#redactor, (l) => onLine('stdout', l)),
      stderr: new StreamRecorder(this.#runDir, `${base}.stderr`, this.#redactor, (l) => onLine('stderr', l)),
    };
  }
}
