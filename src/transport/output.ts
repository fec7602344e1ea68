// Stream plumbing shared by the ssh and local transports: bounded in-memory copies of the
// output, and filters that remove remedy's own markers (process-group id, sudo prompt) from
// stderr before anyone sees it. Filters are chunk-boundary safe.
import { PGID_MARKER } from './process-group.js';

export const DEFAULT_MAX_BUFFER_BYTES = 1024 * 1024;

/** Keeps the first `limit` bytes of a stream; everything else only streams past. */
export class BoundedBuffer {
  readonly #limit: number;
  readonly #chunks: Buffer[] = [];
  #size = 0;
  truncated = false;

  constructor(limit: number) {
    this.#limit = Math.max(0, limit);
  }

  push(chunk: Buffer): void {
    const room = this.#limit - this.#size;
    if (room <= 0) {
      if (chunk.length > 0) this.truncated = true;
      return;
    }
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (part.length < chunk.length) this.truncated = true;
    // Copy: ssh2 and child_process may reuse their buffers.
    this.#chunks.push(Buffer.from(part));
    this.#size += part.length;
  }

  toString(): string {
    return Buffer.concat(this.#chunks, this.#size).toString('utf8');
  }
}

/** A chunk transformer: `push` returns what may pass now, `flush` the held-back rest. */
export interface StreamFilter {
  push(chunk: Buffer): Buffer;
  flush(): Buffer;
}

/**
 * Removes the `__remedy_pgid__=N` line the process-group wrapper prints and records N. Lines
 * before it (e.g. a login shell's locale warnings) pass through; after the first marker, or
 * 64 KiB without one, everything passes untouched.
 */
export class PgidMarkerFilter implements StreamFilter {
  pgid: number | null = null;
  #pending = Buffer.alloc(0);
  #seen = 0;
  #done = false;
  readonly #onPgid: ((pgid: number) => void) | undefined;

  constructor(onPgid?: (pgid: number) => void) {
    this.#onPgid = onPgid;
  }

  push(chunk: Buffer): Buffer {
    if (this.#done) return chunk;
    this.#seen += chunk.length;
    let buf = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    const out: Buffer[] = [];
    for (;;) {
      const nl = buf.indexOf(0x0a);
      if (nl < 0) break;
      const line = buf.subarray(0, nl).toString('latin1');
      const rest = buf.subarray(nl + 1);
      const m = line.startsWith(PGID_MARKER) ? /^\d+$/.exec(line.slice(PGID_MARKER.length)) : null;
      if (m) {
        this.pgid = Number(m[0]);
        this.#done = true;
        this.#pending = Buffer.alloc(0);
        this.#onPgid?.(this.pgid);
        out.push(rest);
        return Buffer.concat(out);
      }
      out.push(buf.subarray(0, nl + 1));
      buf = rest;
    }
    const partial = buf.toString('latin1');
    if (this.#seen > 65536 || !(PGID_MARKER.startsWith(partial) || partial.startsWith(PGID_MARKER))) {
      out.push(buf);
      this.#pending = Buffer.alloc(0);
      if (this.#seen > 65536) this.#done = true;
    } else {
      this.#pending = Buffer.from(buf);
    }
    return Buffer.concat(out);
  }

  flush(): Buffer {
    const p = this.#pending;
    this.#pending = Buffer.alloc(0);
    this.#done = true;
    return p;
  }
}

/** Removes every occurrence of a fixed marker (sudo's `-p` prompt) from a stream. */
export class MarkerStripper implements StreamFilter {
  readonly #marker: Buffer;
  #pending = Buffer.alloc(0);

  constructor(marker: string) {
    this.#marker = Buffer.from(marker);
  }

  push(chunk: Buffer): Buffer {
    let buf = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    const out: Buffer[] = [];
    for (let i = buf.indexOf(this.#marker); i >= 0; i = buf.indexOf(this.#marker)) {
      out.push(buf.subarray(0, i));
      buf = buf.subarray(i + this.#marker.length);
    }
    // Hold back a tail that could be the start of a marker split across chunks.
    let keep = 0;
    for (let k = Math.min(this.#marker.length - 1, buf.length); k > 0; k--) {
      if (buf.subarray(buf.length - k).equals(this.#marker.subarray(0, k))) {
        keep = k;
        break;
      }
    }
    out.push(buf.subarray(0, buf.length - keep));
    this.#pending = Buffer.from(buf.subarray(buf.length - keep));
    return Buffer.concat(out);
  }

  flush(): Buffer {
    const p = this.#pending;
    this.#pending = Buffer.alloc(0);
    return p;
  }
}

/** One output stream of a command: filters, then the bounded copy and the live callback. */
export class OutputSink {
  readonly buffer: BoundedBuffer;
  readonly #filters: StreamFilter[];
  readonly #onChunk: ((chunk: Buffer) => void) | undefined;

  constructor(limit: number, onChunk: ((chunk: Buffer) => void) | undefined, filters: StreamFilter[] = []) {
    this.buffer = new BoundedBuffer(limit);
    this.#onChunk = onChunk;
    this.#filters = filters;
  }

  write(chunk: Buffer): void {
    let c = chunk;
    for (const f of this.#filters) c = f.push(c);
    this.#emit(c);
  }

  end(): void {
    // Flush each filter through the ones after it.
    for (let i = 0; i < this.#filters.length; i++) {
      let c = this.#filters[i]!.flush();
      for (const f of this.#filters.slice(i + 1)) c = f.push(c);
      this.#emit(c);
    }
  }

  #emit(c: Buffer): void {
    if (c.length === 0) return;
    this.buffer.push(c);
    try {
      this.#onChunk?.(c);
    } catch {
      // A failing view must not break the command's bookkeeping.
    }
  }
}
