// Secrets must not land in the run directory, fetched files included. A fetched file is scanned
// as it streams (constant memory) and, only when it holds a secret, rewritten with the secret
// masked. Bytes are handled as latin1 (one char per byte), so binary files stay byte-exact
// everywhere else.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { REDACTED } from '../redact/redactor.js';

function latin1(secret: string): string {
  return Buffer.from(secret, 'utf8').toString('latin1');
}

/**
 * Masks every occurrence of the secrets in the file. Returns null when the file held none (it is
 * left untouched), else the new size and sha256. Secrets of one or two bytes are left alone:
 * masking them inside arbitrary data would destroy it.
 */
export async function redactFileInPlace(path: string, secrets: readonly string[]): Promise<{ bytes: number; sha256: string } | null> {
  const needles = [...new Set(secrets.filter((s) => Buffer.byteLength(s) > 2).map(latin1))].sort((a, b) => b.length - a.length);
  if (needles.length === 0) return null;
  const keep = Math.max(...needles.map((n) => n.length)) - 1;
  const mask = (text: string): string => needles.reduce((t, n) => t.split(n).join(REDACTED), text);

  let found = false;
  let carry = '';
  for await (const chunk of createReadStream(path, { encoding: 'latin1' })) {
    const text = carry + (chunk as string);
    if (needles.some((n) => text.includes(n))) {
      found = true;
      break;
    }
    carry = text.slice(Math.max(0, text.length - keep));
  }
  if (!found) return null;

  const tmp = `${path}.redacting`;
  const out = createWriteStream(tmp, { encoding: 'latin1', mode: 0o600 });
  const hash = createHash('sha256');
  let bytes = 0;
  const emit = (s: string): void => {
    if (s === '') return;
    const b = Buffer.from(s, 'latin1');
    bytes += b.length;
    hash.update(b);
    out.write(b);
  };
  carry = '';
  for await (const chunk of createReadStream(path, { encoding: 'latin1' })) {
    const text = mask(carry + (chunk as string));
    // A secret starting in the last `keep` chars may continue in the next chunk: hold them back.
    const cut = Math.max(0, text.length - keep);
    emit(text.slice(0, cut));
    carry = text.slice(cut);
  }
  emit(mask(carry));
  await new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.end(() => resolve());
  });
  await rename(tmp, path);
  return { bytes, sha256: hash.digest('hex') };
}
