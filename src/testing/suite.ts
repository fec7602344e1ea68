// `remedy test` without the CLI: find `*.test.yaml` files, load them, run every case, and say
// what failed where. Invalid files are reported (exit 64) without stopping the other files.
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RemedyError, UsageError, ValidationError, type Diagnostic } from '../errors.js';
import type { LoadedRunbook } from '../runbook/index.js';
import { checkExpect, type Failure } from './assertions.js';
import { loadTestFile, type LoadedTestFile } from './load.js';
import { CaseInputs, runCase } from './run-case.js';

const TEST_FILE = /\.test\.ya?ml$/;

/** Test files under the paths (a file is taken as named; directories are searched, sorted, skipping hidden ones and node_modules). */
export function findTestFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && TEST_FILE.test(e.name)) out.push(p);
    }
  };
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new UsageError(`no such file or directory: ${p}`);
    }
    if (st.isDirectory()) walk(p);
    else out.push(p);
  }
  return [...new Set(out.map((p) => resolve(p)))];
}

export interface CaseResult {
  file: string;
  /** 0-based index in `cases`. */
  index: number;
  name: string;
  /** Position of the case in its file. */
  line: number;
  col: number;
  status: 'passed' | 'failed' | 'error';
  failures: (Failure & { line: number; col: number })[];
  /** A case that could not run (runbook invalid, bad params, internal error). */
  error?: string | undefined;
  /** Wall-clock milliseconds, and fake-clock milliseconds the run "took". */
  ms: number;
  fakeMs: number;
}

export interface SuiteResult {
  files: number;
  cases: CaseResult[];
  invalid: Diagnostic[];
  ms: number;
}

export function suiteExitCode(result: SuiteResult): number {
  if (result.invalid.length > 0 || result.cases.some((c) => c.status === 'error')) return 64;
  return result.cases.some((c) => c.status === 'failed') ? 1 : 0;
}

export async function runFileCases(file: LoadedTestFile, onCase?: (c: CaseResult) => void, loaded?: Map<string, LoadedRunbook>): Promise<CaseResult[]> {
  const inputs = new CaseInputs(file, loaded);
  const results: CaseResult[] = [];
  for (let index = 0; index < file.data.cases.length; index++) {
    const c = file.data.cases[index];
    if (c === undefined) continue;
    const at = file.position(['cases', index]);
    const started = performance.now();
    const base = { file: file.display, index, name: c.name, line: at.line, col: at.col };
    let result: CaseResult;
    try {
      const { observation: obs, inventory } = await runCase(inputs, file, index);
      const failures = checkExpect(obs, c.expect, inventory).map((f) => ({ ...f, ...file.position(['cases', index, ...f.path]) }));
      result = { ...base, status: failures.length > 0 ? 'failed' : 'passed', failures, ms: performance.now() - started, fakeMs: obs.durationMs };
    } catch (err) {
      const message =
        err instanceof ValidationError ? err.message : err instanceof RemedyError ? err.message : `internal error: ${(err as Error).stack ?? String(err)}`;
      result = { ...base, status: 'error', failures: [], error: message, ms: performance.now() - started, fakeMs: 0 };
    }
    results.push(result);
    onCase?.(result);
  }
  return results;
}

export async function runSuite(paths: readonly string[], onCase?: (c: CaseResult) => void): Promise<SuiteResult> {
  const started = performance.now();
  const files = findTestFiles(paths);
  if (files.length === 0) throw new UsageError(`no *.test.yaml files under ${paths.join(', ')}`);
  const cases: CaseResult[] = [];
  const invalid: Diagnostic[] = [];
  const runbooks = new Map<string, LoadedRunbook>();
  for (const f of files) {
    let loaded: LoadedTestFile;
    try {
      loaded = loadTestFile(f);
    } catch (err) {
      if (err instanceof ValidationError) {
        invalid.push(...err.diagnostics);
        continue;
      }
      throw err;
    }
    cases.push(...(await runFileCases(loaded, onCase, runbooks)));
  }
  return { files: files.length, cases, invalid, ms: performance.now() - started };
}
