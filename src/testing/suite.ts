// `remedy test` without the CLI: find `*.test.yaml` files, load them, run every case, and say
// what failed where. Invalid files are reported (exit 64) without stopping the other files.
import { RemedyError, UsageError, ValidationError, type Diagnostic } from '../errors.js';
import type { LoadedRunbook } from '../runbook/index.js';
import { checkExpect, checkRefusal } from './assertions.js';
import { findTestFiles, type CaseResult, type SuiteResult } from './files.js';
import { loadTestFile, type LoadedTestFile } from './load.js';
import { CaseInputs, planCase, planKey, runCase } from './run-case.js';

export { findTestFiles, suiteExitCode, type CaseResult, type SuiteResult } from './files.js';

/** Part of a file's cases: those whose index modulo `count` is `index` (a big file shared by worker threads). */
export interface Shard {
  index: number;
  count: number;
}

/**
 * The case indices of a shard. Cases that share a plan (same inventory, params and --limit) stay
 * in one shard where the shares allow, so each plan is made by one worker rather than by each;
 * a group bigger than a share (the 502 file's default inputs) is dealt out case by case.
 * Every worker computes the same split from the same file.
 */
export function shardCases(file: LoadedTestFile, shard: Shard): number[] {
  const all = file.data.cases.map((_, i) => i);
  if (shard.count <= 1) return all;
  const groups = new Map<string, number[]>();
  for (const i of all) {
    const key = planKey(file, i);
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  }
  const share = Math.ceil(all.length / shard.count);
  const load = new Array<number>(shard.count).fill(0);
  const mine: number[] = [];
  const ordered = [...groups.values()].sort((a, b) => b.length - a.length || (a[0] as number) - (b[0] as number));
  for (const g of ordered) {
    if (g.length > share) {
      g.forEach((index, k) => {
        const s = k % shard.count;
        load[s] = (load[s] as number) + 1;
        if (s === shard.index) mine.push(index);
      });
      continue;
    }
    let least = 0;
    for (let s = 1; s < shard.count; s++) if ((load[s] as number) < (load[least] as number)) least = s;
    load[least] = (load[least] as number) + g.length;
    if (least === shard.index) mine.push(...g);
  }
  return mine.sort((a, b) => a - b);
}

export async function runFileCases(
  file: LoadedTestFile,
  onCase?: (c: CaseResult) => void,
  loaded?: Map<string, LoadedRunbook>,
  shard: Shard = { index: 0, count: 1 },
): Promise<CaseResult[]> {
  const inputs = new CaseInputs(file, loaded);
  const results: CaseResult[] = [];
  for (const index of shardCases(file, shard)) {
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
