// Full command outputs, kept in the run directory (outputs/<step>/<host>…) while they stream,
// redacted line by line, with memory bounded by one partial line. Views get a throttled feed of
// lines as host-output events; the files hold everything.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { RUN_FILES } from '../journal/run-dir.js';
import type { Redactor } from '../redact/redactor.js';
import { RedactingOutputWriter } from './output-writer.js';

/** Lines passed to views per command at full rate; after that, at most one per interval. */
const LIVE_LINES_FULL_RATE = 50;
const LIVE_LINE_INTERVAL_MS = 200;
/** Views see at most this much of a line that never ends. */
const MAX_PENDING = 64 * 1024;

/** A path-safe rendering of a host or step name for file names. */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || '_';
}

export class StreamRecorder {
  readonly relPath: string;
  readonly #redactor: Redactor;
  readonly #onLine: (line: string) => void;
  // The file: redacted as it streams, holding back just enough that a secret split across
  // chunks (or a line longer than any buffer) is still masked whole.
  readonly #file: RedactingOutputWriter | null;
  // Views get whole lines; a multi-byte character may straddle two chunks.
  readonly #decoder = new StringDecoder('utf8');
  #pending = '';
  #bytes = 0;
  #lines = 0;
  #lastLive = 0;

  constructor(runDir: string | null, relPath: string, redactor: Redactor, onLine: (line: string) => void) {
    this.relPath = relPath;
    this.#redactor = redactor;
    this.#onLine = onLine;
    this.#file = runDir === null ? null : new RedactingOutputWriter(join(runDir, relPath), redactor.values);
  }

  write(chunk: Buffer | string): void {
    this.#bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    this.#file?.write(chunk);
    this.#pending += typeof chunk === 'string' ? chunk : this.#decoder.write(chunk);
    let nl: number;
    while ((nl = this.#pending.indexOf('\n')) >= 0) {
      this.#live(this.#redactor.redact(this.#pending.slice(0, nl).replace(/\r$/, '')), false);
      this.#pending = this.#pending.slice(nl + 1);
    }
    // Views only show the start of an endless line; the file keeps all of it.
    if (this.#pending.length > MAX_PENDING) this.#pending = this.#pending.slice(-MAX_PENDING);
  }

  /** Flushes; returns the run-dir-relative path when anything was written. */
  async close(): Promise<string | null> {
    this.#pending += this.#decoder.end();
    if (this.#pending !== '') this.#live(this.#redactor.redact(this.#pending), true);
    this.#pending = '';
    if (!this.#file) return null;
    this.#file.close();
    return this.#file.bytesOut > 0 ? this.relPath : null;
  }

  get bytes(): number {
    return this.#bytes;
  }

  #live(line: string, force: boolean): void {
    this.#lines++;
    const now = Date.now();
    if (force || this.#lines <= LIVE_LINES_FULL_RATE || now - this.#lastLive >= LIVE_LINE_INTERVAL_MS) {
      this.#lastLive = now;
      this.#onLine(line);
    }
  }
}

export class OutputStore {
  readonly #runDir: string | null;
  readonly #redactor: Redactor;
  /** Bases handed out by this process (files may not exist yet while a command streams). */
  readonly #used = new Set<string>();
  constructor(runDir: string | null, redactor: Redactor) {
    this.#runDir = runDir;
    this.#redactor = redactor;
  }

  /**
   * Recorders for one command: outputs/<step>/<host>[.<label>].stdout|stderr. A command run again
   * under the same name (a retry from the failure prompt, `resume --retry-failed`) gets its own
   * files (`.retry2`, `.retry3`, …): an attempt's output never lands in an earlier attempt's file.
   */
  open(
    step: string,
    host: string,
    label: string,
    onLine: (stream: 'stdout' | 'stderr', line: string) => void,
  ): { stdout: StreamRecorder; stderr: StreamRecorder } {
    const first = `${RUN_FILES.outputs}/${safeName(step)}/${safeName(host)}${label ? `.${label}` : ''}`;
    let base = first;
    for (let n = 2; this.#taken(base); n++) base = `${first}.retry${n}`;
    this.#used.add(base);
    return {
      stdout: new StreamRecorder(this.#runDir, `${base}.stdout`, this.#redactor, (l) => onLine('stdout', l)),
      stderr: new StreamRecorder(this.#runDir, `${base}.stderr`, this.#redactor, (l) => onLine('stderr', l)),
    };
  }

  #taken(base: string): boolean {
    if (this.#used.has(base)) return true;
    return this.#runDir !== null && (existsSync(join(this.#runDir, `${base}.stdout`)) || existsSync(join(this.#runDir, `${base}.stderr`)));
  }
}
