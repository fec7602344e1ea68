// Loading a runbook: YAML with positions → schema → includes (recursively, cycles named) →
// semantic checks. Every problem of every file is collected before anything is thrown.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ValidationError, type Diagnostic } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import { Diagnostics, orderDiagnostics } from './diagnostics.js';
import { walkSteps } from './fields.js';
import { defaultSearchDirs, isVarsFile, resolveRunbookRef } from './resolve.js';
import type { Runbook } from './schema.js';
import { checkSemantics } from './semantics.js';
import { MAX_FILE_DIAGNOSTICS, MAX_RUNBOOK_BYTES, parseSource, positionAt, type Path, type Position, type SourceFile } from './source.js';
import { checkStructure, checkVarsFile } from './structure.js';

export interface LoadedRunbook {
  /** Absolute path. */
  file: string;
  /** Parsed and schema-validated (zod output, defaults applied). */
  runbook: Runbook;
  /** 1-based position of a node by path, e.g. ['steps', 3, 'run'] (falls back to the nearest parent). */
  position(path: readonly (string | number)[]): Position;
  /** Included runbooks, keyed by the including step's id. */
  includes: Map<string, LoadedRunbook>;
}

export interface LoadOptions {
  searchDirs?: string[] | undefined;
  /** With an inventory, host patterns that select nobody (and unknown inventory vars) are warned about. */
  inventory?: Inventory | undefined;
}

/** How a file is named in messages: relative to the working directory when inside it. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}

function stem(file: string): string {
  return path.basename(file).replace(/\.ya?ml$/, '');
}

interface VarsSource {
  source: SourceFile;
  vars: Record<string, string | number | boolean>;
}

/** Loads files and their includes once each, collecting every diagnostic. */
export class Loader {
  readonly diagnostics: Diagnostic[] = [];
  /** Files in the order loading began (a runbook before what it includes), as displayed. */
  readonly files: string[] = [];
  private readonly cache = new Map<string, LoadedRunbook | null>();
  private readonly varsCache = new Map<string, VarsSource | null>();
  private readonly searchDirs: string[];
  private readonly inventory: Inventory | undefined;

  constructor(options: LoadOptions) {
    this.searchDirs = options.searchDirs ?? defaultSearchDirs();
    this.inventory = options.inventory;
  }

  /** Keeps a file's first MAX_FILE_DIAGNOSTICS diagnostics (a loop: spreading 10⁵ of them overflows the stack). */
  #report(list: readonly Diagnostic[]): void {
    let errors = 0;
    for (const d of list) {
      if (errors >= MAX_FILE_DIAGNOSTICS) {
        const rest = list.filter((x) => x.severity === 'error').length - errors;
        if (rest > 0)
          this.diagnostics.push({
            ...d,
            message: `${rest} more errors in this file not shown (the first ${MAX_FILE_DIAGNOSTICS} are above)`,
            severity: 'error',
          });
        return;
      }
      this.diagnostics.push(d);
      if (d.severity === 'error') errors++;
    }
  }

  private fail(file: string, message: string): null {
    this.diagnostics.push({ file: displayPath(file), line: 1, col: 1, message, severity: 'error' });
    this.cache.set(file, null);
    return null;
  }

  /** A shared vars file, parsed and checked once; its own problems are reported in it. */
  loadVars(file: string): VarsSource | null {
    const cached = this.varsCache.get(file);
    if (cached !== undefined) return cached;
    this.varsCache.set(file, null);
    this.files.push(displayPath(file));
    let text: string;
    try {
      const size = statSync(file).size;
      if (size > MAX_RUNBOOK_BYTES) {
        this.fail(file, `the file is ${(size / 1024 / 1024).toFixed(1)} MiB; a vars file may be at most ${MAX_RUNBOOK_BYTES / 1024 / 1024} MiB (not parsed)`);
        return null;
      }
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      this.fail(file, code === 'ENOENT' ? 'no such file' : `cannot read the file (${code ?? String(err)})`);
      return null;
    }
    const { source, diagnostics } = parseSource(displayPath(file), text);
    if (diagnostics.length > 0) {
      this.#report(diagnostics);
      return null;
    }
    const diags = new Diagnostics(source);
    const parsed = checkVarsFile(diags, source.doc.toJS({ maxAliasCount: 100 }));
    this.#report(diags.list);
    if (!parsed) return null;
    const loaded = { source, vars: parsed.vars };
    this.varsCache.set(file, loaded);
    return loaded;
  }

  /**
   * Puts the vars of `imports:` files before the runbook's own (in order), refusing a name
   * declared twice. Returns, per imported var, the diagnostics of its file, so a problem in an
   * imported template is reported where it is written.
   */
  private importVars(file: string, runbook: Runbook, diags: Diagnostics): { sites: Map<string, Diagnostics> } {
    const sites = new Map<string, Diagnostics>();
    if (!runbook.imports?.length) return { sites };
    const merged: Record<string, string | number | boolean> = {};
    const from = new Map<string, string>();
    runbook.imports.forEach((ref, i) => {
      const target = path.resolve(path.dirname(file), ref);
      if (!existsSync(target)) {
        diags.error(['imports', i], `imports: no such file ${displayPath(target)}`);
        return;
      }
      if (!isVarsFile(target)) {
        diags.error(['imports', i], `imports: ${displayPath(target)} is not named *.vars.yaml; shared vars files are, so they are never taken for runbooks`);
        return;
      }
      const loaded = this.loadVars(target);
      if (!loaded) {
        diags.error(['imports', i], `imports: ${displayPath(target)} is not a valid vars file (its problems are listed with its name)`);
        return;
      }
      const fileDiags = new Diagnostics(loaded.source);
      for (const [name, value] of Object.entries(loaded.vars)) {
        const first = from.get(name);
        if (first !== undefined) {
          diags.error(['imports', i], `var "${name}" is declared in both ${first} and ${displayPath(target)}; keep one`);
          continue;
        }
        merged[name] = value;
        from.set(name, displayPath(target));
        sites.set(name, fileDiags);
      }
    });
    for (const name of Object.keys(runbook.vars ?? {})) {
      const imported = from.get(name);
      if (imported !== undefined) {
        diags.error(['vars', name], `var "${name}" is already imported from ${imported}; remove this copy (or the imported one)`, { key: true });
        sites.delete(name);
      }
    }
    runbook.vars = { ...merged, ...(runbook.vars ?? {}) };
    return { sites };
  }

  /** `stack`: the files including this one, outermost first. */
  load(file: string, stack: readonly string[]): LoadedRunbook | null {
    const cached = this.cache.get(file);
    if (cached !== undefined) return cached;
    this.files.push(displayPath(file));
    let text: string;
    try {
      const size = statSync(file).size;
      if (size > MAX_RUNBOOK_BYTES) {
        return this.fail(
          file,
          `the file is ${(size / 1024 / 1024).toFixed(1)} MiB; a runbook may be at most ${MAX_RUNBOOK_BYTES / 1024 / 1024} MiB (not parsed)`,
        );
      }
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return this.fail(file, code === 'ENOENT' ? 'no such file' : `cannot read the file (${code ?? String(err)})`);
    }
    const { source, diagnostics: yamlErrors } = parseSource(displayPath(file), text);
    if (yamlErrors.length > 0) {
      this.#report(yamlErrors);
      this.cache.set(file, null);
      return null;
    }
    let data: unknown;
    try {
      data = source.doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      return this.fail(file, `YAML: ${(err as Error).message.split('\n')[0] ?? String(err)}`);
    }
    const diags = new Diagnostics(source);
    const runbook = checkStructure(diags, data);
    if (!runbook) {
      this.#report(diags.list);
      this.cache.set(file, null);
      return null;
    }

    const imported = this.importVars(file, runbook, diags);
    const includes = new Map<string, LoadedRunbook>();
    for (const { step, path: at } of walkSteps(runbook.steps)) {
      if (!('include' in step)) continue;
      const refPath: Path = [...at, 'include', 'runbook'];
      let target: string;
      try {
        target = resolveRunbookRef(step.include.runbook, file, this.searchDirs);
      } catch (err) {
        diags.error(refPath, `include: ${(err as Error).message}`);
        continue;
      }
      const chain = [...stack, file];
      const loopStart = chain.indexOf(target);
      if (loopStart !== -1) {
        const cycle = [...chain.slice(loopStart), target].map((f) => path.basename(f));
        diags.error(refPath, `include cycle: ${cycle.join(' → ')}`);
        continue;
      }
      const child = this.load(target, chain);
      if (child) includes.set(step.id, child);
    }

    checkSemantics({ diags, runbook, includes, fileStem: stem(file), inventory: this.inventory, importedVars: imported.sites });
    this.#report(diags.list);
    for (const d of new Set(imported.sites.values())) this.#report(d.list);
    const loaded: LoadedRunbook = { file, runbook, includes, position: (p) => positionAt(source, p) };
    this.cache.set(file, loaded);
    return loaded;
  }
}

/**
 * Parses, validates (schema and every semantic check) and loads includes recursively. Throws
 * ValidationError carrying all diagnostics (file:line:col) when anything is wrong; returns the
 * warnings otherwise. A runbook that cannot be found is a UsageError.
 */
export function loadRunbook(ref: string, options: { searchDirs?: string[] } = {}): { loaded: LoadedRunbook; warnings: Diagnostic[] } {
  const file = resolveRunbookRef(ref, undefined, options.searchDirs);
  const loader = new Loader(options);
  const loaded = loader.load(file, []);
  const diagnostics = orderDiagnostics(loader.diagnostics, loader.files);
  if (!loaded || diagnostics.some((d) => d.severity === 'error')) throw new ValidationError(diagnostics);
  return { loaded, warnings: diagnostics };
}
