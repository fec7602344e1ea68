// remedy guide: the same executor as `remedy run`, with the operator deciding. The read-only
// diagnosis runs on its own with live progress; then the evidence and the concluded cause are
// shown (accept, or pick another: an override); every mutating step shows what it would do and
// waits for an answer (run, some hosts, skip, details, abort); a failure offers retry, skip,
// rollback, abort. Every answer is journaled with the operator's name and the plan hash.
//
// Exit codes are the run's: 0 resolved, 1 failed, 5 refused (the operator aborted at an
// approval, or --approval-timeout ran out), 130 interrupted (Ctrl-C, also at a prompt).
import { type Command } from 'commander';
import { UsageError } from '../../errors.js';
import { durationMs } from '../../runbook/duration.js';
import { guidedSetup, requireTerminal } from '../../session/guided.js';
import { planFromFiles } from '../../session/inputs.js';
import { newRunId, osUser, type SessionOptions } from '../../session/options.js';
import { runSession } from '../../session/run-session.js';
import { startRun } from '../../session/start.js';
import { action } from '../exit.js';
import { collect, DECIDE_WITHOUT_EXCLUDED_HELP } from '../load-inputs.js';
import { addSessionOptions } from '../session-options.js';
import { printGuidedSummary } from '../summary.js';

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
  const cmd = program
    .command('guide')
    .description(
      'Remediate with an operator deciding: the diagnosis runs on its own, then the evidence and the cause are shown and every mutating step waits for approval. Needs a terminal.',
    )
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
        if (opts.output === 'jsonl')
          throw new UsageError('remedy guide talks to a person: -f jsonl is for `remedy run` (the journal in the run directory has every event)');
        const inputs = planFromFiles(runbook, {
          inventory: opts.inventory,
          extraVars: opts.extraVar,
          limit: opts.limit,
          decideWithoutExcludedHosts: opts.decideWithoutExcludedHosts,
        });
        const { plan } = inputs;
        const { runDir } = startRun({
          inputs,
          runbook,
          inventory: opts.inventory,
          limit: opts.limit,
          mode: 'guided',
          options: { forks: opts.forks, knownHosts: opts.knownHosts, acceptNewHostKeys: opts.acceptNewHostKeys },
          runDir: opts.runDir,
        });
        const guided = guidedSetup({
          operator: opts.operator ?? osUser(),
          runDir: runDir.path,
          secrets: plan.secrets,
          approvalTimeoutMs: opts.approvalTimeout,
          verbose: opts.verbose === true,
        });
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
