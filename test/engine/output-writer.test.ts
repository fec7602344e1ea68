import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RedactingOutputWriter } from '../../src/engine/output-writer.js';
import { Redactor } from '../../src/redact/redactor.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'remedy-out-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A small deterministic generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function writeInChunks(w: RedactingOutputWriter, data: Buffer, sizes: () => number): void {
  for (let off = 0; off < data.length;) {
    const n = Math.max(1, Math.min(data.length - off, sizes()));
    w.write(data.subarray(off, off + n));
    off += n;
  }
}

describe('RedactingOutputWriter', () => {
  const secrets = ['hunter2-Sup3rS3cret', 'Sup3r', 'line one\nline two of a key', 'pw'];

  it('masks secrets split across chunk boundaries at every possible split', () => {
    const text = 'user=admin password=hunter2-Sup3rS3cret done\n';
    const expected = new Redactor(secrets).redact(text);
    for (let cut = 1; cut < text.length; cut++) {
      const path = join(dir, `o${cut}.stdout`);
      const w = new RedactingOutputWriter(path, secrets);
      w.write(text.slice(0, cut));
      w.write(text.slice(cut));
      w.close();
      const out = readFileSync(path, 'utf8');
      expect(out, `split at ${cut}`).toBe(expected);
      expect(out).not.toContain('hunter2');
    }
  });

  it('matches redacting the whole output at once, for random chunkings (multi-line and multi-byte included)', () => {
    const rand = rng(42);
    const pieces = [
      'hunter2-Sup3rS3cret',
      'Sup3r',
      'line one\nline two of a key',
      ' pw ',
      'pwd',
      'élan ✓ 日本語 ',
      'x'.repeat(50),
      '\n',
      'hunter2-Sup3r',
      'S3cret',
    ];
    const redactor = new Redactor(secrets);
    for (let round = 0; round < 60; round++) {
      let text = '';
      while (text.length < 2000) text += pieces[Math.floor(rand() * pieces.length)];
      const path = join(dir, `r${round}.stdout`);
      const w = new RedactingOutputWriter(path, secrets);
      writeInChunks(w, Buffer.from(text, 'utf8'), () => 1 + Math.floor(rand() * 40));
      w.close();
      const out = readFileSync(path, 'utf8');
      expect(out, `round ${round}`).toBe(redactor.redact(text));
      expect(out).not.toContain('hunter2-Sup3rS3cret');
      expect(out).not.toContain('line one\nline two of a key');
    }
  });

  it('streams a long line without a newline with bounded hold-back', () => {
    const path = join(dir, 'long.stdout');
    const w = new RedactingOutputWriter(path, ['hunter2-Sup3rS3cret']);
    const chunk = Buffer.from('a'.repeat(64 * 1024));
    for (let i = 0; i < 32; i++) w.write(chunk);
    // 2 MiB in, no newline: all but the hold-back is already in the file.
    expect(statSync(path).size).toBeGreaterThanOrEqual(32 * chunk.length - 'hunter2-Sup3rS3cret'.length);
    w.write('hunter2-Sup');
    w.write('3rS3cret\n');
    w.close();
    expect(readFileSync(path, 'utf8').endsWith('a********\n')).toBe(true);
    expect(w.bytesIn).toBe(32 * chunk.length + 'hunter2-Sup3rS3cret\n'.length);
  });

  it('writes through without secrets, and creates no file for no output', () => {
    const path = join(dir, 'none.stdout');
    const w = new RedactingOutputWriter(path, []);
    w.close();
    expect(existsSync(path)).toBe(false);
    const path2 = join(dir, 'sub', 'plain.stdout');
    const w2 = new RedactingOutputWriter(path2, []);
    w2.write('hello ');
    expect(readFileSync(path2, 'utf8')).toBe('hello ');
    w2.write(Buffer.from('wörld\n'));
    expect(w2.close()).toBe(Buffer.byteLength('hello wörld\n'));
    expect(() => w2.write('x')).toThrow(/after close/);
  });
});
