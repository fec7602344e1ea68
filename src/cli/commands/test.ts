// remedy test: runbooks tested like code. Every case of every `*.test.yaml` runs offline through
// the real planner and executor with scripted host replies and a fake clock; failures name the
// assertion's file:line:col with a diff. --from-run / --record turn a recorded run into a case.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { EXIT, UsageError } from '../../errors.js';
import { findTestFiles, suiteExitCode, type CaseResult, type SuiteResult } from '../../testing/files.js';
import { runSuiteParallel, suiteWorkers } from '../../testing/parallel.js';
import { caseJson, renderCaseText, renderSummaryText, summaryJson } from '../../testing/report.js';
import { colorEnabled, colors } from '../../ui/format.js';
import { action } from '../exit.js';
import { addFormatOption } from '../session-options.js';

const OUTPUTS = ['text', 'jsonl'] as const;
type Output = (typeof OUTPUTS)[number];

interface TestCliOptions {
  output: Output;
  fromRun?: string;
  record?: string;
  out?: string;
  verbose?: boolean;
  jobs?: number;
}

function parseJobs(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`--jobs takes a whole number from 1 to 64, not ${JSON.stringify(value)}`);
  return n;
}

export function register(program: Command): void {
  addFormatOption(
    program
      .command('test')
      .description(
        'Run runbook tests (*.test.yaml): scripted host replies through the real planner and executor, offline, on a fake clock. Exit 0 all passed, 1 a case failed, 64 an invalid test file.',
      )
      .argument('[paths...]', 'test files, or directories searched for *.test.yaml (default: runbooks)'),
    'text (one line per case, diffs for failures) or jsonl (one JSON object per case, then a summary)',
    OUTPUTS,
  )
    .option('--from-run <rundir>', 'replay a recorded run against the runbook as it is now: its outputs as replies, its decisions and outcome as assertions')
    .option('--record <rundir>', 'write the case made from a recorded run (with -o FILE)')
    .option('-o, --out <file>', 'with --record: the test file to write')
    .option('-v, --verbose', 'text output: also list passing cases (default: failures and the summary)')
    .option(
      '-j, --jobs <n>',
      'worker threads running the cases (default: one per CPU, at most 4, with 3 CPUs or more and a suite big enough to gain from them; 1: all in this process). Output order and verdicts do not depend on it',
      parseJobs,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  remedy test                                 # every runbooks/**/*.test.yaml\n  remedy test runbooks/apigee/tests/502.test.yaml -f jsonl\n  remedy test --record runs/20261129T101500Z-apigee-502-bad-gateway -o runbooks/apigee/tests/incident-1234.test.yaml\n  remedy test --from-run runs/20261129T101500Z-apigee-502-bad-gateway\n',
    )
    .action(
      action(async (paths: string[], opts: TestCliOptions) => {
        if (opts.record !== undefined || opts.fromRun !== undefined) return replayCommand(paths, opts);
        if (opts.out !== undefined) throw new UsageError('-o/--out goes with --record RUNDIR');
        const jsonl = opts.output === 'jsonl';
        const c = colors(colorEnabled(process.stdout));
        const onCase = (r: CaseResult): void => {
          if (jsonl) process.stdout.write(caseJson(r));
          else if (r.status !== 'passed' || opts.verbose) process.stdout.write(renderCaseText(r, c));
        };
        const result = await runTests(paths.length > 0 ? paths : ['runbooks'], opts.jobs, onCase);
        const code = suiteExitCode(result);
        process.stdout.write(jsonl ? summaryJson(result, code) : renderSummaryText(result, c));
        return code;
      }),
    );
}

/** In this process, or on worker threads when the suite is big enough and there are CPUs for them. */
async function runTests(paths: string[], jobs: number | undefined, onCase: (r: CaseResult) => void): Promise<SuiteResult> {
  const started = performance.now();
  const files = findTestFiles(paths);
  if (files.length === 0) throw new UsageError(`no *.test.yaml files under ${paths.join(', ')}`);
  const workers = suiteWorkers(files, jobs);
  const result = workers > 1 ? await runSuiteParallel(files, workers, onCase) : await (await import('../../testing/suite.js')).runSuite(files, onCase);
  return { ...result, ms: performance.now() - started };
}

async function replayCommand(paths: string[], opts: TestCliOptions): Promise<number> {
  if (paths.length > 0) throw new UsageError('--from-run and --record take a run directory, not test paths');
  if (opts.record !== undefined && opts.fromRun !== undefined) throw new UsageError('use either --from-run or --record');
  const { recordCase, replayRun } = await import('../../testing/replay.js');
  if (opts.record !== undefined) {
    if (opts.out === undefined) throw new UsageError('--record needs -o FILE (the test file to write)');
    const text = recordCase(opts.record, opts.out);
    writeFileSync(opts.out, text);
    process.stderr.write(`wrote ${opts.out}; run it with: remedy test ${opts.out}\n`);
    return EXIT.ok;
  }
  const c = colors(colorEnabled(process.stdout));
  const { result, changes } = await replayRun(opts.fromRun as string);
  const code = suiteExitCode(result);
  if (opts.output === 'jsonl') {
    for (const r of result.cases) process.stdout.write(caseJson(r));
    process.stdout.write(summaryJson(result, code, { changes }));
    return code;
  }
  for (const r of result.cases) process.stdout.write(renderCaseText(r, c));
  if (changes.length > 0) {
    process.stdout.write(`\n${c.bold('Decisions that changed against the runbook as it is now:')}\n`);
    for (const line of changes) process.stdout.write(`  ${line}\n`);
  }
  process.stdout.write(renderSummaryText(result, c));
  return code;
}
