// The run directory: everything a run leaves behind, in one place, under names other tools can
// rely on. Layout (paths relative to the run dir are what events and result.json carry):
//
//   plan.json                      the plan as approved (written by the caller, redacted)
//   inputs.json                    what rebuilds the plan for `remedy resume` (RunInputs)
//   journal.jsonl                  append-only events, one per line, fsync'd (journal.ts)
//   result.json                    the outcome, written atomically at the end (result.ts)
//   report.md                      the readable account (report.ts)
//   outputs/<step>/<host>[.verify][.i<iteration>][.a<attempt>].stdout|stderr   full outputs, redacted
//   artifacts/<host>/...           fetched files
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { REDACTED } from '../redact/redactor.js';
import { fsyncDir, writeJsonAtomic } from './atomic.js';

export const RUN_FILES = {
  plan: 'plan.json',
  inputs: 'inputs.json',
  journal: 'journal.jsonl',
  result: 'result.json',
  report: 'report.md',
  outputs: 'outputs',
  artifacts: 'artifacts',
} as const;

export const DEFAULT_RUNS_DIR = 'runs';

/** Absolute paths of one run directory's files. */
export interface RunDir {
  path: string;
  plan: string;
  inputs: string;
  journal: string;
  result: string;
  report: string;
  outputs: string;
  artifacts: string;
}

export function runDirPaths(dir: string): RunDir {
  const path = resolve(dir);
  return {
    path,
    plan: join(path, RUN_FILES.plan),
    inputs: join(path, RUN_FILES.inputs),
    journal: join(path, RUN_FILES.journal),
    result: join(path, RUN_FILES.result),
    report: join(path, RUN_FILES.report),
    outputs: join(path, RUN_FILES.outputs),
    artifacts: join(path, RUN_FILES.artifacts),
  };
}

/**
 * A path-safe rendering of a step id or host name. The same rule as the executor's output store
 * (src/engine/outputs.ts safeName), so paths computed here match the files it writes.
 */
export function fileSafeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || '_';
}

/** `2026-11-24T13:45:01.123Z` → `20261124T134501Z` (UTC, to the second). */
export function runTimestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
}

export interface CreateRunDirOptions {
  /** Runbook name, part of the default directory name. */
  runbook: string;
  /** `--run-dir DIR`: used as given (created if needed); must not already hold a run. */
  runDir?: string | undefined;
  /** Parent of default run directories (default `runs`, relative to the current directory). */
  base?: string | undefined;
  now?: Date | undefined;
}

/**
 * Creates a new run directory (with outputs/ and artifacts/) and returns its paths. The default
 * name is `runs/<UTC timestamp>-<runbook>`; when two runs start in the same second the second gets
 * `-2`, `-3`, … (mkdir without `recursive` is atomic, so two controllers never share a directory).
 */
export function createRunDir(options: CreateRunDirOptions): RunDir {
  let dir: string;
  if (options.runDir !== undefined) {
    dir = resolve(options.runDir);
    if (existsSync(join(dir, RUN_FILES.journal))) {
      throw new UsageError(
        `--run-dir ${options.runDir} already holds a run (it has a ${RUN_FILES.journal}); continue it with \`remedy resume ${options.runDir}\` or choose another directory`,
      );
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } else {
    const base = resolve(options.base ?? DEFAULT_RUNS_DIR);
    mkdirSync(base, { recursive: true });
    const stem = `${runTimestamp(options.now ?? new Date())}-${fileSafeName(options.runbook)}`;
    dir = claimDirectory(base, stem);
  }
  const paths = runDirPaths(dir);
  mkdirSync(paths.outputs, { recursive: true, mode: 0o700 });
  mkdirSync(paths.artifacts, { recursive: true, mode: 0o700 });
  fsyncDir(paths.path);
  return paths;
}

function claimDirectory(base: string, stem: string): string {
  for (let n = 1; n < 10_000; n++) {
    const candidate = join(base, n === 1 ? stem : `${stem}-${n}`);
    try {
      mkdirSync(candidate, { mode: 0o700 });
      return candidate;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new Error(`cannot create a run directory under ${base}: ${stem}-1..9999 all exist`);
}

/** An existing run directory (resume, report): it must exist and hold a journal. */
export function openRunDir(dir: string): RunDir {
  const paths = runDirPaths(dir);
  let isDir = false;
  try {
    isDir = statSync(paths.path).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new UsageError(`${dir}: no such run directory`);
  if (!existsSync(paths.journal)) {
    throw new UsageError(`${dir}: not a run directory (no ${RUN_FILES.journal}; found ${readdirSync(paths.path).slice(0, 8).join(', ') || 'nothing'})`);
  }
  return paths;
}

/** The label of one command's output files: `verify`, `i<iteration>`, `a<attempt>` (attempt > 1). */
export function outputLabel(attempt: number, iteration?: number | undefined, phase?: 'verify' | undefined): string {
  const parts: string[] = [];
  if (phase) parts.push(phase);
  if (iteration !== undefined) parts.push(`i${iteration}`);
  if (attempt > 1) parts.push(`a${attempt}`);
  return parts.join('.');
}

/** Run-dir-relative paths of one command's full outputs. */
export function outputPaths(
  step: string,
  host: string,
  attempt = 1,
  iteration?: number | undefined,
  phase?: 'verify' | undefined,
): { stdout: string; stderr: string } {
  const label = outputLabel(attempt, iteration, phase);
  const base = `${RUN_FILES.outputs}/${fileSafeName(step)}/${fileSafeName(host)}${label ? `.${label}` : ''}`;
  return { stdout: `${base}.stdout`, stderr: `${base}.stderr` };
}

/** Run-dir-relative directory of a host's fetched files. */
export function artifactDir(host: string): string {
  return `${RUN_FILES.artifacts}/${fileSafeName(host)}`;
}

// ---------------------------------------------------------------------------------------------
// inputs.json: what `remedy resume` needs to rebuild the same plan (its hash must match).

export interface RunInputs {
  /** Format version of this file. */
  version: 1;
  /** remedy's version that started the run. */
  remedyVersion: string;
  /** Working directory of the run; relative paths below are relative to it. */
  cwd: string;
  /** The runbook as named on the command line (a name or a path). */
  runbook: string;
  /** The root runbook file, absolute. */
  runbookFile: string;
  /** The inventory file, absolute. */
  inventory: string;
  /**
   * Param overrides (-e, after reading @files), as strings. Secret params' values are never
   * stored: they are REDACTED here and named in `withheldParams`.
   */
  overrides: Record<string, string>;
  /** Secret params given on the command line: resume must be given them again (-e). */
  withheldParams: string[];
  /** --limit, or null. */
  limit: string | null;
  /** The plan's hash when the run started: resume refuses a plan that differs. */
  planHash: string;
  /** Run options that shape what the run does, so resume behaves the same. */
  options: {
    mode: 'unattended' | 'guided' | 'probe';
    forks?: number | undefined;
    knownHosts?: string | undefined;
    acceptNewHostKeys?: boolean | undefined;
    yes?: boolean | undefined;
  };
}

export interface RunInputsSource {
  runbook: string;
  runbookFile: string;
  inventory: string;
  overrides: Record<string, string>;
  /** Names of the runbook's secret params. */
  secretParams: readonly string[];
  limit?: string | undefined;
  planHash: string;
  options: RunInputs['options'];
  cwd?: string | undefined;
}

/** Builds inputs.json's content, withholding secret params' values. */
export function makeRunInputs(src: RunInputsSource): RunInputs {
  const cwd = src.cwd ?? process.cwd();
  const secret = new Set(src.secretParams);
  const overrides: Record<string, string> = {};
  const withheld: string[] = [];
  for (const [k, v] of Object.entries(src.overrides)) {
    if (secret.has(k)) {
      overrides[k] = REDACTED;
      withheld.push(k);
    } else overrides[k] = v;
  }
  return {
    version: 1,
    remedyVersion: remedyVersion(),
    cwd,
    runbook: src.runbook,
    runbookFile: resolve(cwd, src.runbookFile),
    inventory: resolve(cwd, src.inventory),
    overrides,
    withheldParams: withheld,
    limit: src.limit ?? null,
    planHash: src.planHash,
    options: src.options,
  };
}

export function writeRunInputs(dir: RunDir | string, inputs: RunInputs, options: { durable?: boolean } = {}): void {
  writeJsonAtomic(typeof dir === 'string' ? runDirPaths(dir).inputs : dir.inputs, inputs, options);
}

export function readRunInputs(dir: RunDir | string): RunInputs {
  const path = typeof dir === 'string' ? runDirPaths(dir).inputs : dir.inputs;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`${path}: cannot read the run's inputs: ${(err as Error).message}`);
  }
  const problems = checkRunInputs(raw);
  if (problems.length > 0) throw new UsageError(`${path}: not a remedy run's inputs: ${problems.join('; ')}`);
  const inputs = raw as RunInputs;
  // Paths are absolute when written; keep older relative ones working.
  if (!isAbsolute(inputs.inventory)) inputs.inventory = resolve(inputs.cwd, inputs.inventory);
  if (!isAbsolute(inputs.runbookFile)) inputs.runbookFile = resolve(inputs.cwd, inputs.runbookFile);
  return inputs;
}

function checkRunInputs(raw: unknown): string[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return ['expected a JSON object'];
  const o = raw as Record<string, unknown>;
  const problems: string[] = [];
  if (o.version !== 1) problems.push(`unsupported version ${JSON.stringify(o.version)}`);
  for (const key of ['remedyVersion', 'cwd', 'runbook', 'runbookFile', 'inventory', 'planHash'] as const) {
    if (typeof o[key] !== 'string') problems.push(`${key} must be a string`);
  }
  if (typeof o.overrides !== 'object' || o.overrides === null || Object.values(o.overrides).some((v) => typeof v !== 'string'))
    problems.push('overrides must map names to strings');
  if (!Array.isArray(o.withheldParams) || o.withheldParams.some((v) => typeof v !== 'string')) problems.push('withheldParams must be a list of names');
  if (o.limit !== null && typeof o.limit !== 'string') problems.push('limit must be a string or null');
  if (typeof o.options !== 'object' || o.options === null) problems.push('options must be an object');
  return problems;
}

let cachedVersion: string | undefined;
/** remedy's own version, from package.json (src/ and dist/ are both two levels below it). */
export function remedyVersion(): string {
  if (cachedVersion === undefined) {
    try {
      cachedVersion = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
    } catch {
      cachedVersion = 'unknown';
    }
  }
  return cachedVersion;
}
