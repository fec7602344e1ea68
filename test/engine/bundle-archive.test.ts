// The support bundle written from a run's artifacts: the archive unpacks (with the system's tar)
// to the documented layout, and every sha256 in the manifest and in SHA256SUMS matches.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { selectFiles, writeBundle, type BundleManifest } from '../../src/engine/bundle-archive.js';

const scratch = mkdtempSync(join(tmpdir(), 'remedy-bundle-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let root = scratch;

const PATTERNS = [
  { match: '*/heap-*.hprof', describe: 'heap dump' },
  { match: '*/system.log', describe: 'MP log' },
  { match: '*/*_log', describe: 'Router log' },
];

function put(rel: string, body: string | Buffer): void {
  mkdirSync(join(root, 'artifacts', rel, '..'), { recursive: true });
  writeFileSync(join(root, 'artifacts', rel), body);
}

describe('support bundle', () => {
  it('selects artifacts by glob, first pattern wins, and leaves the rest out', () => {
    expect(selectFiles(['mp-1/system.log', 'mp-1/heap-mp-1-42-20260101T000000Z.hprof', 'router-1/error_log', 'mp-1/other.txt'], PATTERNS)).toEqual([
      { path: 'mp-1/system.log', description: 'MP log' },
      { path: 'mp-1/heap-mp-1-42-20260101T000000Z.hprof', description: 'heap dump' },
      { path: 'router-1/error_log', description: 'Router log' },
    ]);
  });

  // Over 1 MiB in all, files are streamed from disk one at a time; up to it, packed in memory.
  it.each([
    ['streamed (a 3 MiB heap dump)', 3 * 1024 * 1024 + 17],
    ['packed in memory (small files)', 4099],
  ])('writes NAME/manifest.json, NAME/SHA256SUMS and NAME/<host>/<file>; sha256s match after unpacking: %s', async (_how, heapBytes) => {
    root = mkdtempSync(join(scratch, 'case-'));
    const heap = Buffer.alloc(heapBytes, 7);
    put('mp-1/heap-mp-1-42-20260101T000000Z.hprof', heap);
    put('mp-1/system.log', '2026-01-01 00:00:00,000 org:o env:e main INFO KERNEL - up\n');
    put('mp-1/empty.txt', '');
    put('router-1/error_log', '');
    put('router-1/access_log', 'a\tb\n');
    put('support-bundle-old.tar.gz', 'an earlier bundle is never packed again');

    const r = await writeBundle(join(root, 'artifacts'), 'support-bundle-run1.tar.gz', PATTERNS, { runId: 'run1', runbook: 'rb' });
    expect(r.file).toBe(join(root, 'artifacts', 'support-bundle-run1.tar.gz'));
    expect(existsSync(`${r.file}.partial`)).toBe(false);
    expect(r.sha256).toBe(createHash('sha256').update(readFileSync(r.file)).digest('hex'));

    const out = join(root, 'out');
    mkdirSync(out);
    const untar = spawnSync('tar', ['-xzf', r.file, '-C', out], { encoding: 'utf8' });
    expect(untar.status, untar.stderr).toBe(0);
    const listing = spawnSync('tar', ['-tzf', r.file], { encoding: 'utf8' }).stdout.trim().split('\n');
    expect(listing).toEqual([
      'support-bundle-run1/manifest.json',
      'support-bundle-run1/SHA256SUMS',
      'support-bundle-run1/mp-1/heap-mp-1-42-20260101T000000Z.hprof',
      'support-bundle-run1/mp-1/system.log',
      'support-bundle-run1/router-1/access_log',
      'support-bundle-run1/router-1/error_log',
    ]);
    const top = join(out, 'support-bundle-run1');
    const manifest = JSON.parse(readFileSync(join(top, 'manifest.json'), 'utf8')) as BundleManifest;
    expect(manifest).toMatchObject({ bundle: 'support-bundle-run1.tar.gz', runId: 'run1', runbook: 'rb' });
    expect(manifest.files.map((f) => [f.path, f.host, f.description, f.bytes])).toEqual([
      ['mp-1/heap-mp-1-42-20260101T000000Z.hprof', 'mp-1', 'heap dump', heap.length],
      ['mp-1/system.log', 'mp-1', 'MP log', 58],
      ['router-1/access_log', 'router-1', 'Router log', 4],
      ['router-1/error_log', 'router-1', 'Router log', 0],
    ]);
    for (const f of manifest.files) {
      expect(
        createHash('sha256')
          .update(readFileSync(join(top, f.path)))
          .digest('hex'),
        f.path,
      ).toBe(f.sha256);
    }
    const check = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: top, encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(check.stdout.trim().split('\n')).toHaveLength(4);
  });
});
