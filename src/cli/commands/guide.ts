// remedy guide: the same executor as `remedy run`, with the operator deciding. The read-only
// diagnosis runs on its own with live progress; then the evidence and the concluded cause are
// shown (accept, or pick another: an override); every mutating step shows what it would do and
// waits for an answer (run, some hosts, skip, details, abort); a failure offers retry, skip,
// rollback, abort. Every answer is journaled with the operator's name and the plan hash.
//
// Exit codes are the run's: 0 resolved, 1 failed, 5 refused (the operator aborted at an
// approval, or --approval-timeout ran out), 130 interrupted (Ctrl-C, also at a prompt).
import { relative } from 'node:path';
import { type Command } from 'commander';
import type { EventSink } from '../../engine/events.js';
import type { RunResult } from '../../engine/executor.js';
import { GuidedStrategy } from '../../engine/guided.js';
import { UsageError } from '../../errors.js';
import { writeJsonAtomic } from '../../journal/atomic.js';
import { createRunDir, makeRunInputs, writeRunInputs, type RunDir } from '../../journal/run-dir.js';
import { planToJson } from '../../plan/index.js';
import type { Plan } from '../../plan/types.js';
import { Redactor } from '../../redact/redactor.js';
import { durationMs } from '../../runbook/duration.js';
import { createConsoleSink, type ConsoleSink } from '../../ui/console.js';
import { colorEnabled, colors } from '../../ui/format.js';
import { EvidenceLog } from '../../ui/prompts/evidence.js';
import { InquirerPrompter } from '../../ui/prompts/inquirer-prompter.js';
import { action } from '../exit.js';
import { collect, DECIDE_WITHOUT_EXCLUDED_HELP, planFromFiles } from '../load-inputs.js';
import { resumeHint } from '../resume-hint.js';
import { resumeStrategies } from './resume.js';
import { addSessionOptions, newRunId, osUser, runSession, type SessionOptions } from './run.js';

/** Guided runs talk to a person: both ends must be a terminal. */
export function requireTerminal(what: string, stdin: { isTTY?: boolean } = process.stdin, stdout: { isTTY?: boolean } = process.stdout): void {
  if (stdin.isTTY === true && stdout.isTTY === true) return;
  const which = stdin.isTTY !== true && stdout.isTTY !== true ? 'stdin and stdout are not' : stdin.isTTY !== true ? 'stdin is not' : 'stdout is not';
  throw new UsageError(`${what} asks the operator at every decision and needs a terminal (${which} a TTY); for runs without a person use \`remedy run\` (add --yes to apply the fixes)`);
}

export function parseApprovalTimeout(value: string): number {
  let ms: number;
  try {
    ms = durationMs(value);
  } catch {
    throw new UsageError(`--approval-timeout: expected a duration such as 90s, 5m or 1h, got "${value}"`);
  }
  if (ms <= 0) throw new UsageError(`--approval-timeout: must be more than 0, got "${value}"`);
  return ms;
}

/** What a guided session adds to runSession: the strategy, its pausable console, the evidence sink. */
export interface GuidedSetup {
  strategy: GuidedStrategy;
  console: ConsoleSink;
  sinks: EventSink[];
}

/**
 * The guided console and strategy for runSession (run.ts): progress on stdout, paused by the
 * prompter while it has the operator's attention, and the diagnosis kept for the evidence at a
 * decision. `remedy guide` uses it; `remedy resume` of a guided run should too (see register()).
 */
export function guidedSetup(options: { operator: string; runDir: string | null; secrets?: readonly string[] | undefined; approvalTimeoutMs?: number | undefined; verbose?: boolean | undefined }): GuidedSetup {
  const color = colorEnabled(process.stdout);
  // The live listr2 view (guided mode always has a terminal); the prompter pauses it around
  // every question, so prompts never interleave with progress.
  const view = createConsoleSink({ output: 'text', tty: true, stream: process.stdout, redactor: new Redactor([...(options.secrets ?? [])]), color, verbose: options.verbose });
  const evidence = new EvidenceLog(options.runDir);
  const prompter = new InquirerPrompter({ view, evidence, runDir: options.runDir, color, approvalTimeoutMs: options.approvalTimeoutMs });
  return {
    strategy: new GuidedStrategy({ operator: options.operator, prompter, approvalTimeoutMs: options.approvalTimeoutMs }),
    console: view,
    sinks: [evidence],
  };
}

/** After the run (the console printed the recap): why it ended, where the record is. */
function printGuidedSummary(result: RunResult, runDir: RunDir, plan: Plan): void {
  const err = process.stderr;
  const c = colors(colorEnabled(err));
  if (result.message) err.write(`${result.message}\n`);
  const dir = relative(process.cwd(), runDir.path) || '.';
  err.write(`${c.dim(`run directory: ${dir} (journal, outputs, report.md)`)}\n`);
  const hint = result.outcome === 'resolved' || result.outcome === 'nothing-to-do' || result.outcome === 'escalated' ? null : resumeHint(plan, runDir);
  if (hint) err.write(`${c.dim(`continue it with: ${hint}`)}\n`);
}

interface GuideCliOptions extends SessionOptions {
  inventory: string;
  limit?: string;
  decideWithoutExcludedHosts?: boolean;
  extraVar: string[];
  verbose?: boolean;
  runDir?: string;
  operator?: string;
  approvalTimeout?: number;
}

export function register(program: Command): void {
  // A guided run resumes guided: the operator is asked again, with the same console and evidence.
  resumeStrategies.guided = ({ operator, runDir, secrets }) => {
    requireTerminal('resuming a guided run');
    return guidedSetup({ operator, runDir, secrets });
  };
  const cmd = program
    .command('guide')
    .description('Remediate with an operator deciding: the diagnosis runs on its own, then the evidence and the cause are shown and every mutating step waits for approval. Needs a terminal.')
    .argument('<runbook>', 'runbook name (finds runbooks/**/<name>.yaml) or path')
    .requiredOption('-i, --inventory <file>', 'Ansible inventory (YAML or INI)')
    .option('-l, --limit <pattern>', 'restrict to hosts matching an Ansible pattern (one that matches no host is refused, exit 64)')
    .option(...DECIDE_WITHOUT_EXCLUDED_HELP)
    .option('-e, --extra-var <key=value>', 'set a param (repeatable; @file.yaml for a map)', collect, [])
    .option('--approval-timeout <duration>', 'how long a prompt waits for an answer (e.g. 5m); unanswered, the step is refused, not run', parseApprovalTimeout)
    .option('--run-dir <dir>', 'where the journal, outputs and artifacts go (default runs/<UTC time>-<runbook>/)')
    .option('-v, --verbose', 'also show host lock lines (acquired, released) in the live view');
  addSessionOptions(cmd)
    .addHelpText(
      'after',
      '\nExamples:\n  remedy guide apigee-502-bad-gateway -i prod.yaml\n  remedy guide apigee-502-bad-gateway -i prod.yaml --operator alice --approval-timeout 5m\n\nUnattended runs (cron, alert hooks, CI) use `remedy run`, which never prompts.\n',
    )
    .action(
      action(async (runbook: string, opts: GuideCliOptions) => {
        requireTerminal('remedy guide');
        if (opts.output === 'jsonl') throw new UsageError('remedy guide talks to a person: --output jsonl is for `remedy run` (the journal in the run directory has every event)');
        const inputs = planFromFiles(runbook, { inventory: opts.inventory, extraVars: opts.extraVar, limit: opts.limit, decideWithoutExcludedHosts: opts.decideWithoutExcludedHosts });
        const { plan } = inputs;
        const runDir = createRunDir({ runbook: plan.runbook, runDir: opts.runDir });
        writeRunInputs(
          runDir,
          makeRunInputs({
            runbook,
            runbookFile: inputs.loaded.file,
            inventory: opts.inventory,
            overrides: inputs.overrides,
            secretParams: plan.secretParams,
            limit: opts.limit,
            planHash: plan.planHash,
            options: { mode: 'guided', forks: opts.forks, knownHosts: opts.knownHosts, acceptNewHostKeys: opts.acceptNewHostKeys },
          }),
        );
        writeJsonAtomic(runDir.plan, new Redactor(plan.secrets).redactValue(planToJson(plan)));
        const guided = guidedSetup({ operator: opts.operator ?? osUser(), runDir: runDir.path, secrets: plan.secrets, approvalTimeoutMs: opts.approvalTimeout, verbose: opts.verbose === true });
        const { result } = await runSession({
          plan,
          inventory: inputs.inventory,
          strategy: guided.strategy,
          runDir,
          runId: newRunId(),
          session: opts,
          console: guided.console,
          sinks: guided.sinks,
        });
        printGuidedSummary(result, runDir, inputs.plan);
        return result.exitCode;
      }),
    );
}
