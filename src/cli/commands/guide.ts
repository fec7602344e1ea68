// remedy guide: the same executor as `remedy run`, with the operator deciding. The read-only
// diagnosis runs on its own with live progress; then the evidence and the concluded cause are
// shown (accept, or pick another: an override); every mutating step shows what it would do and
// waits for an answer (run, some hosts, skip, details, abort); a failure offers retry, skip,
// rollback, abort. Every answer is journaled with the operator's name and the plan hash.
//
// Exit codes are the run's: 0 resolved, 1 failed, 5 refused (the operator aborted at an
// approval, or --approval-timeout ran out), 130 interrupted (Ctrl-C, also at a prompt).
import { Command } from 'commander';
import { relative } from 'node:path';
import { executePlan } from '../../engine/executor.js';
import { MemorySink, NoticeRelay } from '../../engine/emitter.js';
import type { EventSink, RunEvent } from '../../engine/events.js';
import { GuidedStrategy } from '../../engine/guided.js';
import type { RunResult } from '../../engine/executor.js';
import { UsageError, formatDiagnostic } from '../../errors.js';
import type { Inventory } from '../../inventory/types.js';
import { writeJsonAtomic } from '../../journal/atomic.js';
import { JournalSink } from '../../journal/journal.js';
import { writeReport } from '../../journal/report.js';
import { ResultSink } from '../../journal/result.js';
import { createRunDir, makeRunInputs, writeRunInputs, type RunDir } from '../../journal/run-dir.js';
import { planToJson } from '../../plan/index.js';
import type { Plan } from '../../plan/types.js';
import { Redactor } from '../../redact/redactor.js';
import { durationMs } from '../../runbook/duration.js';
import { defaultKnownHostsFile, TransportPool } from '../../transport/index.js';
import { createConsoleSink } from '../../ui/console.js';
import { colorEnabled, colors } from '../../ui/format.js';
import { EvidenceLog } from '../../ui/prompts/evidence.js';
import { InquirerPrompter } from '../../ui/prompts/inquirer-prompter.js';
import { computeRecap, renderRecap } from '../../ui/recap.js';
import { action } from '../exit.js';
import { collect, planFromFiles } from '../load-inputs.js';
import { resumeStrategies } from './resume.js';
import { addSessionOptions, installInterruptHandlers, newRunId, osUser, type SessionOptions } from './run.js';

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

interface GuidedSessionRequest {
  plan: Plan;
  inventory: Inventory;
  runDir: RunDir;
  operator: string;
  session: SessionOptions;
  approvalTimeoutMs?: number | undefined;
}

/**
 * Like runSession (run.ts), with the guided console: a live view on stdout that the prompter
 * pauses while it has the operator's attention, and the diagnosis kept for the evidence.
 */
async function runGuidedSession(req: GuidedSessionRequest): Promise<{ result: RunResult; events: RunEvent[] }> {
  const { plan, runDir, session } = req;
  const redactor = new Redactor(plan.secrets);
  const color = colorEnabled(process.stdout);
  const view = createConsoleSink({ output: 'text', tty: true, stream: process.stdout, redactor, color, recap: false });
  const evidence = new EvidenceLog(runDir.path);
  const memory = new MemorySink();
  const sinks: EventSink[] = [new JournalSink(runDir.path, redactor), new ResultSink(runDir.path, redactor), memory, evidence, view];
  const prompter = new InquirerPrompter({ view, evidence, runDir: runDir.path, color, approvalTimeoutMs: req.approvalTimeoutMs });
  const strategy = new GuidedStrategy({ operator: req.operator, prompter, approvalTimeoutMs: req.approvalTimeoutMs });
  const notices = new NoticeRelay();
  const pool = new TransportPool({
    knownHostsFiles: session.knownHosts !== undefined ? [session.knownHosts, defaultKnownHostsFile()] : undefined,
    acceptNewHostKeys: session.acceptNewHostKeys,
    passphrase: process.env.REMEDY_SSH_PASSPHRASE,
    inventory: req.inventory,
    onNotice: (message) => notices.push(message),
  });
  const interrupt = installInterruptHandlers();
  try {
    const result = await executePlan({
      plan,
      inventory: req.inventory,
      transports: pool,
      strategy,
      sinks,
      runId: newRunId(),
      runDir: runDir.path,
      user: osUser(),
      forks: session.forks,
      breakLock: session.breakLock,
      signal: interrupt.stop,
      killSignal: interrupt.kill,
      notices,
    });
    return { result, events: memory.events };
  } finally {
    await pool.closeAll();
    interrupt.dispose();
    for (const sink of sinks) await sink.close().catch(() => undefined);
    try {
      writeReport(runDir.path, { redactor });
    } catch (err) {
      process.stderr.write(`remedy: report.md not written: ${(err as Error).message}\n`);
    }
  }
}

function printGuidedSummary(result: RunResult, events: RunEvent[], runDir: RunDir): void {
  const err = process.stderr;
  const c = colors(colorEnabled(err));
  err.write(`\n${renderRecap(computeRecap(events), c)}`);
  if (result.message) err.write(`${result.message}\n`);
  const dir = relative(process.cwd(), runDir.path) || '.';
  err.write(`${c.dim(`run directory: ${dir} (journal, outputs, report.md)`)}\n`);
  if (result.outcome === 'interrupted' || result.outcome === 'refused') err.write(`${c.dim(`continue it with: remedy resume ${dir}`)}\n`);
}

interface GuideCliOptions extends SessionOptions {
  inventory: string;
  limit?: string;
  extraVar: string[];
  runDir?: string;
  operator?: string;
  approvalTimeout?: number;
}

export function register(program: Command): void {
  // A guided run resumes guided: `remedy resume DIR` asks the operator again (plain progress lines).
  resumeStrategies.guided = ({ operator }) => {
    requireTerminal('resuming a guided run');
    return new GuidedStrategy({ operator, prompter: new InquirerPrompter({ color: colorEnabled(process.stdout) }) });
  };
  const cmd = program
    .command('guide')
    .description('Remediate with an operator deciding: the diagnosis runs on its own, then the evidence and the cause are shown and every mutating step waits for approval. Needs a terminal.')
    .argument('<runbook>', 'runbook name (finds runbooks/**/<name>.yaml) or path')
    .requiredOption('-i, --inventory <file>', 'Ansible inventory (YAML or INI)')
    .option('-l, --limit <pattern>', 'restrict to hosts matching an Ansible pattern')
    .option('-e, --extra-var <key=value>', 'set a param (repeatable; @file.yaml for a map)', collect, [])
    .option('--approval-timeout <duration>', 'how long a prompt waits for an answer (e.g. 5m); unanswered, the step is refused, not run', parseApprovalTimeout)
    .option('--run-dir <dir>', 'where the journal, outputs and artifacts go (default runs/<UTC time>-<runbook>/)');
  addSessionOptions(cmd)
    .addHelpText(
      'after',
      '\nExamples:\n  remedy guide apigee-502-bad-gateway -i prod.yaml\n  remedy guide apigee-502-bad-gateway -i prod.yaml --operator alice --approval-timeout 5m\n\nUnattended runs (cron, alert hooks, CI) use `remedy run`, which never prompts.\n',
    )
    .action(
      action(async (runbook: string, opts: GuideCliOptions) => {
        requireTerminal('remedy guide');
        if (opts.output === 'jsonl') throw new UsageError('remedy guide talks to a person: --output jsonl is for `remedy run` (the journal in the run directory has every event)');
        const inputs = planFromFiles(runbook, { inventory: opts.inventory, extraVars: opts.extraVar, limit: opts.limit });
        for (const w of inputs.warnings) process.stderr.write(`${formatDiagnostic(w)}\n`);
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
        const { result, events } = await runGuidedSession({
          plan,
          inventory: inputs.inventory,
          runDir,
          operator: opts.operator ?? osUser(),
          session: opts,
          approvalTimeoutMs: opts.approvalTimeout,
        });
        printGuidedSummary(result, events, runDir);
        return result.exitCode;
      }),
    );
}
