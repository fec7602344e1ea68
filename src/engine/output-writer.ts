// Writes one command's full output into the run directory as it streams, with secrets redacted.
// A secret may arrive split over two chunks (`…pass` + `word…`), so the writer never flushes the
// last (longest secret − 1) characters it has seen: they wait for the next chunk or close(). It
// prefers to cut after a newline (redaction of short, whole-word secrets then behaves as on whole
// lines), and never cuts through a complete secret occurrence (multi-line secrets included).
// Memory stays bounded by the hold-back plus one chunk, however long a line is.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { writeAll } from '../journal/atomic.js';
import { Redactor } from '../redact/redactor.js';

/** How far back a cut may move to land after a newline (bounds memory on very long lines). */
const LINE_REACH = 64 * 1024;

export class RedactingOutputWriter {
  readonly path: string;
  readonly #redactor: Redactor;
  readonly #secrets: string[];
  readonly #holdBack: number;
  /** The Redactor masks secrets of 1-2 characters only as whole words. */
  readonly #wholeWordSecrets: boolean;
  readonly #decoder = new StringDecoder('utf8');
  #fd: number | null = null;
  #pending = '';
  #bytesIn = 0;
  #bytesOut = 0;
  #closed = false;

  /** `secrets`: the run's secret values (plan.secrets); the file is created on the first byte. */
  constructor(path: string, secrets: Iterable<string>) {
    this.path = path;
    this.#secrets = [...new Set([...secrets].filter((s) => s.length > 0))];
    this.#redactor = new Redactor(this.#secrets);
    this.#holdBack = this.#secrets.reduce((m, s) => Math.max(m, s.length), 0);
    this.#wholeWordSecrets = this.#secrets.some((s) => s.length <= 2);
  }

  /** Bytes received (before redaction). */
  get bytesIn(): number {
    return this.#bytesIn;
  }

  /** Bytes written to the file (after redaction). */
  get bytesOut(): number {
    return this.#bytesOut;
  }

  write(chunk: Buffer | string): void {
    if (this.#closed) throw new Error(`${this.path}: write after close`);
    this.#bytesIn += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    // A multi-byte character may straddle two chunks: the decoder keeps its first bytes.
    this.#pending += typeof chunk === 'string' ? chunk : this.#decoder.write(chunk);
    if (this.#holdBack === 0) {
      this.#flush(this.#pending);
      this.#pending = '';
      return;
    }
    const cut = this.#safeCut();
    if (cut > 0) {
      this.#flush(this.#redactor.redact(this.#pending.slice(0, cut)));
      this.#pending = this.#pending.slice(cut);
    }
  }

  /** Flushes what was held back and closes the file. Returns the bytes written (0: no file). */
  close(): number {
    if (this.#closed) return this.#bytesOut;
    this.#closed = true;
    this.#pending += this.#decoder.end();
    if (this.#pending !== '') this.#flush(this.#redactor.redact(this.#pending));
    this.#pending = '';
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
    return this.#bytesOut;
  }

  /**
   * How much of the pending text can be written now: everything but the last holdBack−1
   * characters (a secret starting there could still be completed), moved back to just after a
   * newline when there is one in reach, and never inside a complete secret.
   */
  #safeCut(): number {
    const text = this.#pending;
    let cut = text.length - (this.#holdBack - 1);
    if (cut <= 0) return 0;
    const nl = text.lastIndexOf('\n', cut - 1);
    if (nl >= 0 && cut - (nl + 1) <= LINE_REACH) cut = nl + 1;
    const floor = Math.max(0, cut - LINE_REACH);
    for (let moved = true; moved && cut > 0;) {
      moved = false;
      // A cut inside a complete occurrence would split it: move before it. Only the last
      // occurrence starting before the cut can cross it; repeat, since secrets may overlap.
      for (const s of this.#secrets) {
        const i = text.lastIndexOf(s, cut - 1);
        if (i >= 0 && i + s.length > cut) {
          cut = i;
          moved = true;
        }
      }
      // Short secrets are masked as whole words only: a cut between two word characters would
      // make a word boundary that is not there. Move to a real boundary, within reach.
      if (this.#wholeWordSecrets) {
        let c = cut;
        while (c > 0 && c > floor && isWordChar(text, c - 1) && isWordChar(text, c)) c--;
        // At the start of the pending text: wait for more. At the floor: a word longer than the
        // reach; cut anyway (a short secret at the cut is then masked even inside the word).
        if (c !== cut && (c === 0 || c > floor)) {
          cut = c;
          moved = true;
        }
      }
    }
    return cut;
  }

  #flush(text: string): void {
    if (text === '') return;
    this.#fd ??= openCreatingDir(this.path);
    const buf = Buffer.from(text, 'utf8');
    writeAll(this.#fd, buf);
    this.#bytesOut += buf.length;
  }
}

/**
 * Opens for appending, creating the directory only when it is missing: a step's directory
 * exists after its first host's file, and a fan-out opens hundreds of files in it.
 */
function openCreatingDir(path: string): number {
  try {
    return openSync(path, 'a', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    return openSync(path, 'a', 0o600);
  }
}

/** JavaScript's \w (the Redactor's \b), without the u flag. */
function isWordChar(text: string, i: number): boolean {
  const code = text.charCodeAt(i);
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
}
