// A cache on disk of the shell contexts found for command skeletons (context.ts), so a process
// that meets the commands it met before does not load and run the shell parser at all. mvdan-sh
// is a GopherJS build: loading it costs ~150-300 ms of CPU and its first parses are slow until
// the JIT warms up, which dominated the start-up of `remedy plan|run|test` on a runbook.
//
// Entries are keyed by the skeleton with this process's placeholder words written neutrally, and
// the file is tied to the parser's version and to the code that derives contexts from its tree
// (a hash of context.js as built), one file per version: any change to either starts a fresh
// file, and files of versions unused for a week are removed. Contexts decide
// how values are quoted, so the file is trusted only the way ssh trusts its own files: owned by
// the user, writable by no one else, in a directory writable by no one else. Anything else (absent,
// foreign, corrupt, stale) is ignored and the parser runs as before. REMEDY_CACHE_DIR moves the
// cache; REMEDY_CACHE_DIR=off turns it off.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';

const FORMAT = 1;
const MAX_ENTRIES = 5_000;
/** Files of other versions (another checkout, the sources under vitest) left this long are removed. */
const STALE_MS = 7 * 24 * 3600 * 1000;

interface CacheFile {
  format: number;
  version: string;
  entries: Record<string, string>;
}

/** Where the cache lives, or null when it is turned off. */
export function contextCacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const dir = env.REMEDY_CACHE_DIR;
  if (dir === 'off' || dir === '0') return null;
  if (dir !== undefined && dir !== '') return dir;
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg !== undefined && xdg.startsWith('/') ? xdg : join(homedir(), '.cache');
  return join(base, 'remedy');
}

/** Owned by us and writable by no one else (group/other write bits clear). */
function trusted(path: string): boolean {
  const st = statSync(path);
  const uid = process.getuid?.();
  return (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
}

export class ContextCache {
  readonly #dir: string | null;
  readonly #codeId: string;
  #version: string | undefined;
  #entries: Map<string, string> | null = null;
  readonly #added = new Map<string, string>();

  /** `codeId`: what identifies the code deriving contexts (a hash of its built file). */
  constructor(dir: string | null, codeId: string) {
    this.#dir = dir;
    this.#codeId = codeId;
  }

  get #versionId(): string {
    return (this.#version ??= `${parserVersion()}:${this.#codeId}`);
  }

  /** One file per version, so builds that differ (two checkouts, dist/ and src/) do not evict each other. */
  get #file(): string {
    const id = createHash('sha256').update(this.#versionId).digest('hex').slice(0, 16);
    return join(this.#dir as string, `shell-contexts-${id}.json`);
  }

  get(key: string): string | undefined {
    return (this.#entries ??= this.#read()).get(key) ?? this.#added.get(key);
  }

  set(key: string, value: string): void {
    if (this.#dir === null) return;
    if (this.#added.size === 0) process.once('exit', () => this.flush());
    this.#added.set(key, value);
  }

  #read(): Map<string, string> {
    if (this.#dir === null) return new Map();
    try {
      const file = this.#file;
      if (!trusted(this.#dir) || !trusted(file)) return new Map();
      const data = JSON.parse(readFileSync(file, 'utf8')) as Partial<CacheFile>;
      if (data.format !== FORMAT || data.version !== this.#versionId || typeof data.entries !== 'object' || data.entries === null) return new Map();
      return new Map(Object.entries(data.entries).filter((e): e is [string, string] => typeof e[1] === 'string'));
    } catch {
      return new Map();
    }
  }

  /** Writes what this process added (merged with the file as it is now), atomically; best effort. */
  flush(): void {
    if (this.#dir === null || this.#added.size === 0) return;
    try {
      mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
      const merged = new Map(this.#read());
      for (const [k, v] of this.#added) merged.set(k, v);
      const entries = merged.size > MAX_ENTRIES ? this.#added : merged;
      const data: CacheFile = { format: FORMAT, version: this.#versionId, entries: Object.fromEntries(entries) };
      const file = this.#file;
      const tmp = `${file}.${process.pid}-${threadId}.tmp`; // threads of one process (remedy test workers) flush too
      writeFileSync(tmp, JSON.stringify(data), { mode: 0o600 });
      renameSync(tmp, file);
      this.#entries = merged;
      this.#added.clear();
      this.#prune(file);
    } catch {
      // A cache that cannot be written costs time, never correctness.
    }
  }

  #prune(keep: string): void {
    const dir = this.#dir as string;
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (!name.startsWith('shell-contexts-') || path === keep) continue;
      try {
        if (Date.now() - statSync(path).mtimeMs > STALE_MS) unlinkSync(path);
      } catch {
        // Gone already, or not ours to remove.
      }
    }
  }
}

function parserVersion(): string {
  try {
    return `mvdan-sh@${(createRequire(import.meta.url)('mvdan-sh/package.json') as { version: string }).version}`;
  } catch {
    return 'mvdan-sh@unknown';
  }
}

/** A hash of a built module's own text (changes whenever its code does). */
export function moduleHash(url: string): string {
  try {
    return createHash('sha256')
      .update(readFileSync(fileURLToPath(url)))
      .digest('hex')
      .slice(0, 16);
  } catch {
    return 'unknown';
  }
}
