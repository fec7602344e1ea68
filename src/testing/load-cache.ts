// A cache on disk of what `remedy test` loads before its first case: each test file's validated
// data and each runbook as the loader returned it (validated, includes resolved, imports merged),
// with the positions the run asked for. Parsing and validating YAML is most of a fresh process's
// (and of each worker thread's) time before the cases start, and runbooks rarely change between
// two test runs.
//
// An entry is used only when every file it was made from has the same bytes (sha256), every
// include still resolves to the same file, and the code is the same build (a digest of the
// names, sizes and times of the modules beside this one): anything else loads afresh. Only
// loads without errors are kept, so every error and its file:line:col still come from the loader.
// A position the entry does not hold parses the file then, as the loader would have. The file
// is trusted like the shell-context cache (owned by the user, writable by no one else);
// REMEDY_CACHE_DIR moves it, REMEDY_CACHE_DIR=off turns it off.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { threadId } from 'node:worker_threads';
import { displayPath, type LoadedRunbook } from '../runbook/load.js';
import { resolveRunbookRef } from '../runbook/resolve.js';
import type { Runbook } from '../runbook/schema.js';
import { positionAt, parseSource, type Path, type Position, type SourceFile } from '../runbook/source.js';
import { contextCacheDir } from '../shell/context-cache.js';
import type { TestFile } from './schema.js';

const FORMAT = 1;
/** Test files or runbooks kept per build, at most. */
const MAX_ENTRIES = 500;

interface TestFileEntry {
  sha256: string;
  data: TestFile;
  positions: Record<string, Position>;
}

interface RunbookEntry {
  file: string;
  sha256: string;
  runbook: Runbook;
  /** Imported vars files (absolute) and their sha256. */
  imports: [string, string][];
  /** Include step id → [the ref as written, the included runbook]. */
  includes: [string, string, RunbookEntry][];
  positions: Record<string, Position>;
}

interface CacheFile {
  format: number;
  code: string;
  testFiles: Record<string, TestFileEntry>;
  runbooks: Record<string, RunbookEntry>;
}

const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');
const pathKey = (path: Path, key?: boolean): string => JSON.stringify(key ? [...path, '\u0000key'] : path);

/**
 * The running code's identity. In the bundle (dist/cli) esbuild names each chunk by a hash of
 * its content, so the chunk names and the few entry files' bytes say it; elsewhere (the tsc
 * build, the sources under vitest) the names, sizes and times of every module do.
 */
function codeDigest(moduleDir: string): string {
  const hash = createHash('sha256');
  const names = readdirSync(moduleDir).sort();
  if (names.some((n) => CHUNK.test(n))) {
    for (const n of names) if (n.endsWith('.js')) hash.update(CHUNK.test(n) ? `${n}\n` : `${n}\u0000${sha256(readFileSync(join(moduleDir, n)))}\n`);
    return hash.digest('hex').slice(0, 16);
  }
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(js|ts)$/.test(e.name)) {
        const st = statSync(p);
        hash.update(`${p}\u0000${st.size}\u0000${st.mtimeMs}\n`);
      }
    }
  };
  walk(dirname(moduleDir));
  return hash.digest('hex').slice(0, 16);
}
const CHUNK = /^chunk-[A-Z0-9]+\.js$/;
/** Files of other builds kept besides the current one (two checkouts, dist and src under vitest). */
const KEEP_OTHERS = 4;

/** Owned by us and writable by no one else (group/other write bits clear). */
function trusted(path: string): boolean {
  const st = statSync(path);
  const uid = process.getuid?.();
  return (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
}

/** A copy through JSON, when JSON keeps the value exactly (no undefined fields, Maps, RegExps...); otherwise null (not cached). */
function snapshot<T>(value: T): T | null {
  try {
    const copy = JSON.parse(JSON.stringify(value)) as T;
    return isDeepStrictEqual(copy, value) ? copy : null;
  } catch {
    return null;
  }
}

/** Positions looked up in the entry first, then (once) in the parsed file; what was asked is recorded. */
function recordingPosition(
  file: string,
  display: string,
  known: Record<string, Position>,
  changed: () => void,
  parsed?: () => SourceFile,
): (path: Path, options?: { key?: boolean }) => Position {
  let source: SourceFile | undefined;
  return (path, options = {}) => {
    const k = pathKey(path, options.key);
    let pos = known[k];
    if (pos === undefined) {
      source ??= parsed?.() ?? parseSource(display, readFileSync(file, 'utf8')).source;
      pos = positionAt(source, path, options);
      known[k] = { line: pos.line, col: pos.col };
      changed();
    }
    return pos;
  };
}

export class LoadCache {
  readonly #dir: string | null;
  readonly #root: string;
  #code: string | undefined;
  #file: CacheFile | null | undefined;
  readonly #added: { testFiles: Record<string, TestFileEntry>; runbooks: Record<string, RunbookEntry> } = { testFiles: {}, runbooks: {} };
  #flushing = false;
  readonly #changed = (): void => {
    if (this.#dir === null || this.#flushing) return;
    this.#flushing = true;
    process.once('exit', () => this.flush());
  };

  /** `moduleDir`: the directory of this module, whose code (and its neighbours') keys the entries. */
  constructor(dir: string | null, root: string) {
    this.#dir = dir;
    this.#root = root;
  }

  get #codeId(): string {
    return (this.#code ??= codeDigest(this.#root));
  }

  get #path(): string {
    return join(this.#dir as string, `test-loads-${this.#codeId}.json`);
  }

  #read(): CacheFile | null {
    if (this.#file !== undefined) return this.#file;
    this.#file = null;
    if (this.#dir === null) return null;
    try {
      const path = this.#path;
      if (!trusted(this.#dir) || !trusted(path)) return null;
      const data = JSON.parse(readFileSync(path, 'utf8')) as Partial<CacheFile>;
      if (data.format === FORMAT && data.code === this.#codeId && typeof data.testFiles === 'object' && typeof data.runbooks === 'object')
        this.#file = data as CacheFile;
    } catch {
      // Absent, foreign or corrupt: load afresh.
    }
    return this.#file;
  }

  /** A test file's validated data and recorded positions, when its text is the one cached. */
  testFile(file: string, display: string, text: string): { data: TestFile; position: (path: Path) => Position } | undefined {
    const entry = this.#read()?.testFiles[file];
    if (entry === undefined || entry.sha256 !== sha256(text)) return undefined;
    this.#added.testFiles[file] = entry;
    return { data: entry.data, position: recordingPosition(file, display, entry.positions, this.#changed) };
  }

  /** Keeps a test file loaded without errors; returns its position function, recording what it is asked. */
  putTestFile(file: string, text: string, data: TestFile, source: SourceFile): (path: Path) => Position {
    const positions: Record<string, Position> = {};
    const copy = this.#dir === null ? null : snapshot(data);
    if (copy !== null) {
      this.#added.testFiles[file] = { sha256: sha256(text), data: copy, positions };
      this.#changed();
    }
    return recordingPosition(file, source.file, positions, this.#changed, () => source);
  }

  /** A runbook as loaded before, when none of its files changed and its includes resolve as before. */
  runbook(file: string): LoadedRunbook | undefined {
    const entry = this.#read()?.runbooks[file];
    if (entry === undefined || !fresh(entry)) return undefined;
    this.#added.runbooks[file] = entry;
    return fromEntry(entry, this.#changed);
  }

  /** Keeps a runbook loaded without errors; returns it with positions recorded for the next run. */
  putRunbook(loaded: LoadedRunbook): LoadedRunbook {
    if (this.#dir === null) return loaded;
    const entry = toEntry(loaded, new Map());
    if (entry === null) return loaded;
    this.#added.runbooks[loaded.file] = entry;
    this.#changed();
    return withRecording(loaded, entry, new Map(), this.#changed);
  }

  /** Writes the entries this process used or made (merged with the file as it is now), atomically; best effort. */
  flush(): void {
    if (this.#dir === null) return;
    try {
      mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
      this.#file = undefined;
      const now = this.#read();
      // Files that are gone (a test's temporary project) leave; past MAX_ENTRIES only this run's stay.
      const keep = <T>(earlier: Record<string, T> | undefined, added: Record<string, T>): Record<string, T> => {
        const merged = Object.fromEntries(Object.entries({ ...(earlier ?? {}), ...added }).filter(([file]) => existsSync(file)));
        return Object.keys(merged).length > MAX_ENTRIES ? added : merged;
      };
      const data: CacheFile = {
        format: FORMAT,
        code: this.#codeId,
        testFiles: keep(now?.testFiles, this.#added.testFiles),
        runbooks: keep(now?.runbooks, this.#added.runbooks),
      };
      const path = this.#path;
      const tmp = `${path}.${process.pid}-${threadId}.tmp`;
      writeFileSync(tmp, JSON.stringify(data), { mode: 0o600 });
      renameSync(tmp, path);
      this.#prune(path);
    } catch {
      // A cache that cannot be written costs time, never correctness.
    }
  }

  /** Keeps the newest few files of other builds; older ones go. */
  #prune(keep: string): void {
    const dir = this.#dir as string;
    const others = readdirSync(dir)
      .filter((n) => /^test-loads-[0-9a-f]+\.json$/.test(n) && join(dir, n) !== keep)
      .map((n) => {
        const path = join(dir, n);
        try {
          return { path, at: statSync(path).mtimeMs };
        } catch {
          return { path, at: 0 };
        }
      })
      .sort((a, b) => b.at - a.at);
    for (const { path } of others.slice(KEEP_OTHERS)) {
      try {
        unlinkSync(path);
      } catch {
        // Gone already.
      }
    }
  }
}

function readSha(file: string): string | null {
  try {
    return sha256(readFileSync(file));
  } catch {
    return null;
  }
}

function fresh(entry: RunbookEntry): boolean {
  if (readSha(entry.file) !== entry.sha256) return false;
  for (const [file, sum] of entry.imports) if (readSha(file) !== sum) return false;
  for (const [, ref, child] of entry.includes) {
    let target: string;
    try {
      target = resolveRunbookRef(ref, entry.file);
    } catch {
      return false;
    }
    if (target !== child.file || !fresh(child)) return false;
  }
  return true;
}

function fromEntry(entry: RunbookEntry, changed: () => void): LoadedRunbook {
  const includes = new Map<string, LoadedRunbook>();
  for (const [step, , child] of entry.includes) includes.set(step, fromEntry(child, changed));
  return { file: entry.file, runbook: entry.runbook, includes, position: recordingPosition(entry.file, displayPath(entry.file), entry.positions, changed) };
}

/** The include steps of a runbook, at any depth of blocks: [step id, ref as written]. */
function includeRefs(runbook: Runbook): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const v of value) visit(v);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const step = value as { id?: unknown; include?: { runbook?: unknown } };
    if (typeof step.id === 'string' && typeof step.include?.runbook === 'string') out.set(step.id, step.include.runbook);
    for (const v of Object.values(value)) if (typeof v === 'object') visit(v);
  };
  visit(runbook.steps);
  return out;
}

function toEntry(loaded: LoadedRunbook, seen: Map<LoadedRunbook, RunbookEntry | null>): RunbookEntry | null {
  if (seen.has(loaded)) return seen.get(loaded) ?? null;
  seen.set(loaded, null);
  const sum = readSha(loaded.file);
  const runbook = sum === null ? null : snapshot(loaded.runbook);
  if (sum === null || runbook === null) return null;
  const imports: [string, string][] = [];
  for (const ref of (loaded.runbook as { imports?: string[] }).imports ?? []) {
    const file = resolve(dirname(loaded.file), ref);
    const s = readSha(file);
    if (s === null) return null;
    imports.push([file, s]);
  }
  const refs = includeRefs(loaded.runbook);
  const includes: [string, string, RunbookEntry][] = [];
  for (const [step, child] of loaded.includes) {
    const ref = refs.get(step);
    const c = toEntry(child, seen);
    if (ref === undefined || c === null) return null;
    includes.push([step, ref, c]);
  }
  const entry: RunbookEntry = { file: loaded.file, sha256: sum, runbook, imports, includes, positions: {} };
  seen.set(loaded, entry);
  return entry;
}

/** The same runbook tree, each position asked of it recorded in its entry. */
function withRecording(loaded: LoadedRunbook, entry: RunbookEntry, seen: Map<LoadedRunbook, LoadedRunbook>, changed: () => void): LoadedRunbook {
  const done = seen.get(loaded);
  if (done) return done;
  const includes = new Map<string, LoadedRunbook>();
  const out: LoadedRunbook = {
    file: loaded.file,
    runbook: loaded.runbook,
    includes,
    position: (path) => {
      const k = pathKey(path);
      let pos = entry.positions[k];
      if (pos === undefined) {
        pos = loaded.position(path);
        entry.positions[k] = { line: pos.line, col: pos.col };
        changed();
      }
      return pos;
    },
  };
  seen.set(loaded, out);
  for (const [step, child] of loaded.includes) {
    const c = entry.includes.find(([s]) => s === step)?.[2];
    includes.set(step, c ? withRecording(child, c, seen, changed) : child);
  }
  return out;
}

let shared: LoadCache | undefined;

/** The process's (the thread's) cache, keyed by the code it runs. */
export function loadCache(): LoadCache {
  return (shared ??= new LoadCache(contextCacheDir(), dirname(fileURLToPath(import.meta.url))));
}
