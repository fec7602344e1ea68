// Files a reader must never see half-written (result.json, inputs.json, report.md): written to a
// temporary file beside the target, fsync'd, then renamed over it. rename(2) is atomic within a
// file system, so a reader sees the old file or the new one, never a mix.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * `durable: false` skips both fsyncs (the rename stays atomic): for a file another durable copy
 * backs (remedy serve keeps a run's inputs and plan in Redis, with AOF), where two synchronous
 * fsyncs per file would hold the event loop on the alert → first command path.
 */
export function writeFileAtomic(path: string, data: string, mode = 0o600, options: { durable?: boolean } = {}): void {
  const durable = options.durable !== false;
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  let fd: number | null = openSync(tmp, 'w', mode);
  try {
    writeAll(fd, Buffer.from(data, 'utf8'));
    if (durable) fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== null) closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  if (durable) fsyncDir(dirname(path));
}

export function writeJsonAtomic(path: string, value: unknown, options: { durable?: boolean } = {}): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, 0o600, options);
}

/** writeSync may write less than asked (large buffers, some file systems): loop until done. */
export function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

/** Makes a new directory entry (a created or renamed file) durable. Best effort: not every platform allows it. */
export function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // EISDIR/EINVAL on some platforms: the rename is still atomic, only its durability is weaker.
  } finally {
    closeSync(fd);
  }
}
