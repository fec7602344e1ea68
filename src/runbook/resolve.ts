// Finding a runbook: by path, or by name (`apigee-502-bad-gateway` → runbooks/**/apigee-502-bad-gateway.yaml).
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';

const EXTENSIONS = ['.yaml', '.yml'] as const;

/** <package root>/runbooks: the runbooks shipped with remedy (src/runbook and dist/runbook are both two levels down). */
export const PACKAGE_RUNBOOKS = fileURLToPath(new URL('../../runbooks', import.meta.url));

export function defaultSearchDirs(): string[] {
  return [...new Set([path.resolve('runbooks'), PACKAGE_RUNBOOKS])];
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Depth-first, sorted, skipping hidden folders and node_modules: the same answer on every machine. */
function findByName(dir: string, fileNames: readonly string[]): string | null {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch {
    return null;
  }
  for (const e of entries) if (e.isFile() && fileNames.includes(e.name)) return path.join(dir, e.name);
  for (const e of entries) {
    if (!e.isDirectory() || e.name.startsWith('.') || e.name === 'node_modules') continue;
    const hit = findByName(path.join(dir, e.name), fileNames);
    if (hit) return hit;
  }
  return null;
}

/** Shared vars files (`imports:`) are named *.vars.yaml, so nobody takes them for runbooks. */
export function isVarsFile(file: string): boolean {
  return /\.vars\.ya?ml$/.test(file);
}

function looksLikePath(ref: string): boolean {
  return ref.includes('/') || ref.includes(path.sep) || EXTENSIONS.some((ext) => ref.endsWith(ext));
}

/**
 * A runbook named by path, or by name. Includes (`fromFile` set) are resolved relative to the
 * including file first, then by name under `searchDirs` (default: ./runbooks, then the
 * package's runbooks). Returns an absolute path; throws UsageError naming where it looked.
 */
export function resolveRunbookRef(ref: string, fromFile?: string, searchDirs: string[] = defaultSearchDirs()): string {
  const trimmed = ref.trim();
  if (trimmed === '') throw new UsageError('no runbook named');
  const baseDir = fromFile ? path.dirname(path.resolve(fromFile)) : process.cwd();
  const looked: string[] = [];
  if (looksLikePath(trimmed) || path.isAbsolute(trimmed)) {
    const candidates = [path.resolve(baseDir, trimmed), ...(fromFile ? [path.resolve(trimmed)] : [])];
    for (const c of candidates) if (isFile(c)) return c;
    throw new UsageError(`runbook not found: ${trimmed} (looked for ${[...new Set(candidates)].join(', ')})`);
  }
  const fileNames = EXTENSIONS.map((ext) => `${trimmed}${ext}`);
  if (fromFile) {
    for (const f of fileNames) if (isFile(path.join(baseDir, f))) return path.join(baseDir, f);
    looked.push(baseDir);
  }
  for (const dir of searchDirs) {
    if (!existsSync(dir)) continue;
    looked.push(dir);
    const hit = findByName(path.resolve(dir), fileNames);
    if (hit) return hit;
  }
  throw new UsageError(`runbook not found: ${trimmed} (no ${trimmed}.yaml in ${looked.length ? looked.join(', ') : searchDirs.join(', ')})`);
}

/** Expands directories into the .yaml/.yml files under them (sorted); files pass through. */
export function expandRunbookPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') walk(p);
      // `*.test.yaml` beside runbooks are their tests (remedy test), not runbooks.
      else if (e.isFile() && EXTENSIONS.some((ext) => e.name.endsWith(ext)) && !/\.test\.ya?ml$/.test(e.name)) out.push(p);
    }
  };
  for (const p of paths) {
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      // A missing file is reported by the loader, with its name.
    }
    if (isDir) walk(p);
    else out.push(p);
  }
  return out;
}
