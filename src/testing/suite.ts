// `remedy test` without the CLI: find `*.test.yaml` files, load them, run every case, and say
// what failed where. Invalid files are reported (exit 64) without stopping the other files.
import { RemedyError, UsageError, ValidationError, type Diagnostic } from '../errors.js';
import type { LoadedRunbook } from '../runbook/index.js';
import { checkExpect, checkRefusal } from './assertions.js';
import { findTestFiles, type CaseResult, type SuiteResult } from './files.js';
import { loadTestFile, type LoadedTestFile } from './load.js';
import { CaseInputs, planCase, runCase } from './run-case.js';

export { findTestFiles, suiteExitCode, type CaseResult, type SuiteResult } from './files.js';

/** Part of a file's cases: those whose index modulo `count` is `index` (a big file shared by worker threads). */
export interface Shard {
  index: number;
  count: number;
}

export async function runFileCases(
  file: LoadedTestFile,
  onCase?: (c: CaseResult) => void,
  loaded?: Map<string, LoadedRunbook>,
  shard: Shard = { index: 0, count: 1 },
): Promise<CaseResult[]> {
  const inputs = new CaseInputs(file, loaded);
  const results: CaseResult[] = [];
  for (let index = shard.index; index < file.data.cases.length; index += shard.count) {
    const c = file.data.cases[index];
    if (c === undefined) continue;
    const at = file.position(['cases', index]);
    const started = performance.now();
    const base = { file: file.display, index, name: c.name, line: at.line, col: at.col };
    let result: CaseResult;
    try {
      if (c.expect.refused_at_plan !== undefined) {
        // Planned only: a case about refused inputs runs nothing, whatever the planner says.
        let refusal: { message: string; exitCode: number } | null = null;
        try {
          planCase(inputs, file, index);
        } catch (err) {
          if (!(err instanceof RemedyError)) throw err;
          refusal = { message: err.message, exitCode: err.exitCode };
        }
        const failures = checkRefusal(refusal, c.expect).map((f) => ({ ...f, ...file.position(['cases', index, ...f.path]) }));
        results.push({ ...base, status: failures.length > 0 ? 'failed' : 'passed', failures, ms: performance.now() - started, fakeMs: 0 });
        onCase?.(results.at(-1) as CaseResult);
        continue;
      }
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
