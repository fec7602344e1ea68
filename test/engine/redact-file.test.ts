import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { redactFileInPlace } from '../../src/engine/redact-file.js';
import { tempDir } from './helpers.js';

describe('redactFileInPlace', () => {
  test('a file without secrets is left untouched', async () => {
    const f = join(tempDir(), 'a');
    writeFileSync(f, 'nothing to see\n');
    expect(await redactFileInPlace(f, ['s3cret'])).toBeNull();
    expect(readFileSync(f, 'utf8')).toBe('nothing to see\n');
  });

  test('secrets are masked across chunk boundaries; binary bytes elsewhere are kept exactly', async () => {
    const f = join(tempDir(), 'b');
    const secret = 'pässw0rd-S3CRET';
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    // 64 KiB chunks: put secrets right across the first boundary and at the very end.
    const filler = Buffer.alloc(65536 - 5, 0x41);
    const content = Buffer.concat([filler, Buffer.from(secret), binary, Buffer.from(`x${secret}`), Buffer.from(secret)]);
    writeFileSync(f, content);
    const r = await redactFileInPlace(f, [secret, 'ab']);
    const expected = Buffer.concat([filler, Buffer.from('********'), binary, Buffer.from('x********'), Buffer.from('********')]);
    const got = readFileSync(f);
    expect(got.equals(expected)).toBe(true);
    expect(r).toEqual({ bytes: expected.length, sha256: createHash('sha256').update(expected).digest('hex') });
  });
});
