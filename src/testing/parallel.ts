// `remedy test` on worker threads: the suite's files (a big file split into shards of its cases)
// go to a few workers, first the biggest; results come back as each case ends and are handed on
// in file and case order, so the output is the same as an in-process run's, whatever finishes
// first. Worth it from two CPUs on: each worker loads the code and the runbooks it needs itself
// (that part is paid once per worker), the cases themselves are shared.
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { Diagnostic } from '../errors.js';
import type { CaseResult, SuiteResult } from './files.js';

export interface Unit {
  fileIndex: number;
  file: string;
  shard: { index: number; count: number };
}

export type ToWorker = { type: 'unit'; unit: Unit } | { type: 'done' };
export type FromWorker =
  | { type: 'loaded'; fileIndex: number; cases: number }
  | { type: 'invalid'; fileIndex: number; diagnostics: Diagnostic[] }
  | { type: 'case'; fileIndex: number; result: CaseResult }
  | { type: 'idle' }
  | { type: 'fatal'; message: string };

/** Workers by default: one per CPU, at most this many (each costs its own code and runbook loading). */
export const MAX_DEFAULT_WORKERS = 4;
/**
 * Below this many CPUs a suite runs in one thread by default. Measured on a 2-CPU machine
 * (`remedy test runbooks/`, warm caches, median of 5): two workers 1.64 s wall and 2.9 s of CPU, one
 * thread 1.10 s and 1.6 s — the workers' own loading and the main thread's share of the two CPUs
 * cost more than the second CPU saves.
 */
export const MIN_DEFAULT_PARALLEL_CPUS = 3;
/**
 * Below this many bytes of test files a suite runs in one thread by default: a worker's start
 * (its own module and runbook loading, some hundreds of ms of CPU) costs more than it saves.
 */
export const MIN_PARALLEL_BYTES = 16 * 1024;

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** How many worker threads to run `files` on (1: in this process). `jobs` is --jobs, if given. */
export function suiteWorkers(files: readonly string[], jobs: number | undefined, cpus: number = availableParallelism()): number {
  if (jobs !== undefined) return jobs;
  if (cpus < MIN_DEFAULT_PARALLEL_CPUS || files.reduce((a, f) => a + sizeOf(f), 0) < MIN_PARALLEL_BYTES) return 1;
  return Math.min(cpus, MAX_DEFAULT_WORKERS);
}

/**
 * The units, biggest first (size of the file's share, a fair proxy of its cases' work): a file
 * with at least a worker's share of all the bytes is split into one shard per worker, so the
 * suite's big file does not leave the other workers idle at the end.
 */
export function planUnits(files: readonly string[], workers: number): Unit[] {
  const sizes = files.map(sizeOf);
  const total = sizes.reduce((a, b) => a + b, 0);
  const units: (Unit & { cost: number })[] = [];
  files.forEach((file, fileIndex) => {
    const size = sizes[fileIndex] ?? 0;
    const count = workers > 1 && size * workers >= total ? workers : 1;
    for (let index = 0; index < count; index++) units.push({ fileIndex, file, shard: { index, count }, cost: size / count });
  });
  // Stable: equal costs keep file order.
  return units.sort((a, b) => b.cost - a.cost).map(({ cost: _cost, ...u }) => u);
}

/** Runs the files' cases on `workers` threads; `onCase` sees them in file and case order. */
export async function runSuiteParallel(files: readonly string[], workers: number, onCase?: (c: CaseResult) => void): Promise<SuiteResult> {
  const started = performance.now();
  const queue = planUnits(files, workers);
  const counts: (number | undefined)[] = files.map(() => undefined);
  const results: (CaseResult | undefined)[][] = files.map(() => []);
  const invalid: (Diagnostic[] | undefined)[] = files.map(() => undefined);
  const ordered: CaseResult[] = [];
  let nextFile = 0;
  let nextCase = 0;

  /** Hands on every result whose turn it is (all earlier files and cases done). */
  const flush = (): void => {
    while (nextFile < files.length) {
      const count = counts[nextFile];
      if (count === undefined) return;
      if (nextCase >= count) {
        nextFile++;
        nextCase = 0;
        continue;
      }
      const r = results[nextFile]?.[nextCase];
      if (r === undefined) return;
      ordered.push(r);
      onCase?.(r);
      nextCase++;
    }
  };

  // A worker's young generation starts at 4 MiB and is collected over and over while it loads
  // runbooks and plans (~10% of its CPU); starting at 16 MiB halves that. V8 reads the flag when
  // it creates an isolate, so it applies to the workers made below, not to this thread.
  setFlagsFromString('--min-semi-space-size=16');
  const url = new URL('./worker.js', import.meta.url);
  const n = Math.min(workers, queue.length);
  await new Promise<void>((resolve, reject) => {
    let running = n;
    let failed = false;
    const pool: Worker[] = [];
    const fail = (err: Error): void => {
      if (failed) return;
      failed = true;
      for (const w of pool) void w.terminate();
      reject(err);
    };
    for (let i = 0; i < n; i++) {
      const worker = new Worker(url);
      pool.push(worker);
      const give = (): void => {
        const unit = queue.shift();
        worker.postMessage(unit === undefined ? ({ type: 'done' } satisfies ToWorker) : ({ type: 'unit', unit } satisfies ToWorker));
      };
      worker.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'loaded':
            counts[m.fileIndex] = m.cases;
            break;
          case 'invalid':
            invalid[m.fileIndex] ??= m.diagnostics;
            counts[m.fileIndex] = 0;
            break;
          case 'case':
            (results[m.fileIndex] as (CaseResult | undefined)[])[m.result.index] = m.result;
            break;
          case 'idle':
            give();
            break;
          case 'fatal':
            fail(new Error(`remedy test worker: ${m.message}`));
            return;
        }
        flush();
      });
      worker.on('error', (err) => fail(err));
      worker.on('exit', (code) => {
        if (code !== 0 && !failed) fail(new Error(`remedy test worker exited with code ${code}`));
        else if (--running === 0 && !failed) resolve();
      });
      give();
    }
  });
  flush();
  return { files: files.length, cases: ordered, invalid: invalid.flatMap((d) => d ?? []), ms: performance.now() - started };
}
