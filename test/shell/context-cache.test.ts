// The disk cache of shell contexts (src/shell/context-cache.ts), across real processes of the
// built code: each process has its own placeholder words, so an entry written by one must serve
// the next with its own words, without loading the shell parser; a file anyone else could have
// written, or one from another parser or code version, is never believed.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const CONTEXT = join(ROOT, 'dist/shell/context.js');

// Outside quotes, in '…', in "…", and an unquoted here-document whose line holds another value
// (its context carries that line, placeholder words and all).
const SKELETON = 'echo §0 \'§1\' "§2"\ncat <<EOF\n§3 and §4\nEOF\necho `§5`';

interface Probe {
  contexts: unknown[];
  parserLoaded: boolean;
  slot: string;
}

/** One process: the contexts of SKELETON with its own words, and whether mvdan-sh got loaded. */
function probe(env: Record<string, string>): Probe {
  const script = `
    import { createRequire } from 'node:module';
    import { slotContexts, slotWord } from ${JSON.stringify(CONTEXT)};
    const skeleton = ${JSON.stringify(SKELETON)}.replace(/§(\\d)/g, (_, i) => slotWord(Number(i)));
    const contexts = slotContexts(skeleton, 6);
    const require = createRequire(${JSON.stringify(CONTEXT)});
    const parserLoaded = Object.keys(require.cache).some((k) => k.endsWith('mvdan-sh/index.js'));
    console.log(JSON.stringify({ contexts, parserLoaded, slot: slotWord(0) }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as Probe;
}

/** The cache file of this version (one file per parser and code version). */
function cacheFile(dir: string): string {
  const names = readdirSync(dir).filter((n) => /^shell-contexts-[0-9a-f]+\.json$/.test(n));
  expect(names).toHaveLength(1);
  return join(dir, names[0] as string);
}

const dirs: string[] = [];
function cacheDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'remedy-ctx-cache-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('shell context cache on disk', () => {
  it('serves a later process, with its own placeholder words, without loading the parser', () => {
    const dir = cacheDir();
    const first = probe({ REMEDY_CACHE_DIR: dir });
    expect(first.parserLoaded).toBe(true);
    expect(first.contexts.map((c) => (c as { kind: string }).kind)).toEqual(['unquoted', 'single', 'double', 'heredoc', 'heredoc', 'refused']);
    const file = cacheFile(dir);
    expect(readFileSync(file, 'utf8')).not.toContain(first.slot.slice(0, -2));

    const second = probe({ REMEDY_CACHE_DIR: dir });
    expect(second.slot).not.toBe(first.slot);
    expect(second.parserLoaded).toBe(false);
    // The same contexts, the here-document's line now in the second process's words.
    const own = (p: Probe): string => JSON.stringify(p.contexts).replaceAll(p.slot.replace(/0z$/, ''), 'SLOT');
    expect(own(second)).toBe(own(first));
    expect(JSON.stringify(second.contexts)).toContain(`"prefix":"${second.slot.replace(/0z$/, '3z')} and "`);
  });

  it('ignores a file others could have written, and one from another version', () => {
    const dir = cacheDir();
    probe({ REMEDY_CACHE_DIR: dir });
    const file = cacheFile(dir);
    const data = JSON.parse(readFileSync(file, 'utf8')) as { version: string; entries: Record<string, string> };
    // Forge every entry: everything "unquoted" (the backquotes would no longer be refused).
    for (const k of Object.keys(data.entries)) data.entries[k] = JSON.stringify(Array.from({ length: 6 }, () => ({ kind: 'unquoted' })));
    writeFileSync(file, JSON.stringify(data));
    chmodSync(file, 0o666);
    const worldWritable = probe({ REMEDY_CACHE_DIR: dir });
    expect(worldWritable.parserLoaded).toBe(true);
    expect((worldWritable.contexts[5] as { kind: string }).kind).toBe('refused');

    writeFileSync(file, JSON.stringify({ ...data, version: `${data.version}-other` }));
    chmodSync(file, 0o600);
    const stale = probe({ REMEDY_CACHE_DIR: dir });
    expect(stale.parserLoaded).toBe(true);
    expect((stale.contexts[5] as { kind: string }).kind).toBe('refused');
  });

  it('REMEDY_CACHE_DIR=off writes nothing', () => {
    const dir = cacheDir();
    const off = probe({ REMEDY_CACHE_DIR: 'off', XDG_CACHE_HOME: dir, HOME: dir });
    expect(off.parserLoaded).toBe(true);
    expect(existsSync(join(dir, 'remedy'))).toBe(false);
  });
});
