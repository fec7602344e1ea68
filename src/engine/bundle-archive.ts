// The support bundle's archive (the `bundle` step is actions/bundle.ts): the artifacts a run fetched (dumps, logs, configuration, status output)
// packed into one .tar.gz under artifacts/, with a manifest that says what each file is and its
// sha256. Streamed from disk through tar-stream and gzip, one file at a time, so a multi-GB heap
// dump never sits in memory. Runs on the controller and changes no host.
//
// Archive layout (NAME = the file name without .tar.gz):
//   NAME/manifest.json   { bundle, runId, runbook, createdAt, files: [{ path, host, description, bytes, sha256 }] }
//   NAME/SHA256SUMS      `sha256sum -c SHA256SUMS` checks every file, run inside NAME/
//   NAME/<host>/<file>   the artifacts, as under the run's artifacts/<host>/
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';
import picomatch from 'picomatch';
import { pack as tarPack } from 'tar-stream';

export interface BundleFile {
  /** Relative to artifacts/ (and to the bundle's top directory). */
  path: string;
  host: string;
  description: string;
  bytes: number;
  sha256: string;
}

export interface BundleManifest {
  bundle: string;
  runId: string;
  runbook: string;
  createdAt: string;
  files: BundleFile[];
}

/** Every file under a directory, relative, sorted; earlier bundles are never packed again. */
function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(relative(root, p).split(sep).join('/'));
    }
  };
  walk(root);
  return out.filter((f) => !(f.includes('/') === false && /\.tar\.gz(\.partial)?$/.test(f)));
}

async function sha256Of(file: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Which artifacts go in, each with the description of the first pattern that matches it. */
export function selectFiles(paths: readonly string[], patterns: readonly { match: string; describe: string }[]): { path: string; description: string }[] {
  const matchers = patterns.map((p) => ({ test: picomatch(p.match, { dot: true }), describe: p.describe }));
  const out: { path: string; description: string }[] = [];
  for (const p of paths) {
    const hit = matchers.find((m) => m.test(p));
    if (hit) out.push({ path: p, description: hit.describe });
  }
  return out;
}

/**
 * Writes `<artifacts>/<name>`: hashes each file first (so the manifest can lead the archive),
 * then streams manifest, SHA256SUMS and the files through tar and gzip into a .partial file that
 * is renamed into place only when complete.
 */
export async function writeBundle(
  artifacts: string,
  name: string,
  patterns: readonly { match: string; describe: string }[],
  meta: { runId: string; runbook: string },
): Promise<{ file: string; manifest: BundleManifest; bytes: number; sha256: string }> {
  const top = name.replace(/\.tar\.gz$/, '');
  const chosen = selectFiles(listFiles(artifacts), patterns);
  const sizes = chosen.map((f) => statSync(join(artifacts, f.path)).size);
  if (sizes.reduce((a, b) => a + b, 0) <= IN_MEMORY_BYTES) return writeSmallBundle(artifacts, name, top, chosen, meta);
  const files: BundleFile[] = [];
  for (const f of chosen) {
    const { sha256, bytes } = await sha256Of(join(artifacts, f.path));
    files.push({ path: f.path, host: f.path.split('/')[0] ?? '', description: f.description, bytes, sha256 });
  }
  const manifest: BundleManifest = { bundle: name, runId: meta.runId, runbook: meta.runbook, createdAt: new Date().toISOString(), files };
  const sums = files.map((f) => `${f.sha256}  ${f.path}\n`).join('');

  const out = join(artifacts, name);
  const partial = `${out}.partial`;
  const tar = tarPack();
  const written = pipeline(tar, createGzip(), createWriteStream(partial));
  const mtime = new Date();
  const addBuffer = (entryName: string, body: string): Promise<void> =>
    new Promise((resolve, reject) => tar.entry({ name: `${top}/${entryName}`, mode: 0o644, mtime }, body, (err) => (err ? reject(err) : resolve())));
  try {
    await addBuffer('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`);
    await addBuffer('SHA256SUMS', sums);
    for (const f of files) {
      const entry = tar.entry({ name: `${top}/${f.path}`, size: f.bytes, mode: 0o644, mtime });
      await pipeline(createReadStream(join(artifacts, f.path), { end: f.bytes - 1 < 0 ? undefined : f.bytes - 1 }), entry);
    }
    tar.finalize();
    await written;
  } catch (err) {
    tar.destroy(err as Error);
    await written.catch(() => undefined);
    rmSync(partial, { force: true });
    throw err;
  }
  renameSync(partial, out);
  const { sha256 } = await sha256Of(out);
  return { file: out, manifest, bytes: statSync(out).size, sha256 };
}

/**
 * Bundles up to this size (all files together) are packed in memory: read, hashed, tarred and
 * gzipped in one go. Streaming each file through the thread pool costs a few milliseconds of
 * hand-offs per file, which is most of the time for the status files and logs a diagnosis
 * gathers; gzip of 1 MiB blocks the event loop for ~10 ms. Heap dumps take the streaming path.
 */
const IN_MEMORY_BYTES = 1 << 20;

async function writeSmallBundle(
  artifacts: string,
  name: string,
  top: string,
  chosen: { path: string; description: string }[],
  meta: { runId: string; runbook: string },
): Promise<{ file: string; manifest: BundleManifest; bytes: number; sha256: string }> {
  const bodies = chosen.map((f) => readFileSync(join(artifacts, f.path)));
  const files: BundleFile[] = chosen.map((f, i) => {
    const body = bodies[i] as Buffer;
    return {
      path: f.path,
      host: f.path.split('/')[0] ?? '',
      description: f.description,
      bytes: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
    };
  });
  const manifest: BundleManifest = { bundle: name, runId: meta.runId, runbook: meta.runbook, createdAt: new Date().toISOString(), files };
  const sums = files.map((f) => `${f.sha256}  ${f.path}\n`).join('');
  const tar = tarPack();
  const chunks: Buffer[] = [];
  tar.on('data', (chunk: unknown) => {
    chunks.push(chunk as Buffer);
  });
  const ended = new Promise<void>((resolve, reject) => {
    tar.on('end', resolve);
    tar.on('error', reject);
  });
  const mtime = new Date();
  const entry = (entryName: string, body: string | Buffer): void => {
    tar.entry({ name: `${top}/${entryName}`, mode: 0o644, mtime }, body);
  };
  entry('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`);
  entry('SHA256SUMS', sums);
  files.forEach((f, i) => entry(f.path, bodies[i] as Buffer));
  tar.finalize();
  await ended;
  const gz = gzipSync(Buffer.concat(chunks));
  const out = join(artifacts, name);
  const partial = `${out}.partial`;
  try {
    writeFileSync(partial, gz);
    renameSync(partial, out);
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
  return { file: out, manifest, bytes: gz.length, sha256: createHash('sha256').update(gz).digest('hex') };
}
