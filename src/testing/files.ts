// What a `remedy test` run is made of and how it ends, without the runner: finding the test
// files, the per-case and suite results, the exit code. Light on purpose: the CLI's main thread
// loads only this when the cases run on worker threads (suite.ts and parallel.ts).
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError, type Diagnostic } from '../errors.js';
import type { Failure } from './assertions.js';

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
