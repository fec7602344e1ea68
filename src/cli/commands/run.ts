// remedy run: apply a runbook unattended. Never prompts: without --yes it runs the read-only
// diagnosis and stops before the first mutating step (exit 5), showing what it would have done.
// The session itself (run directory, sinks, transports, Ctrl-C) is src/session/'s.
import { type Command } from 'commander';
import { UnattendedStrategy } from '../../engine/strategy.js';
import { planFromFiles } from '../../session/inputs.js';
import { newRunId, osUser, type OutputFormat } from '../../session/options.js';
import { runSession } from '../../session/run-session.js';
import { startRun } from '../../session/start.js';
import { action } from '../exit.js';
import { collect, DECIDE_WITHOUT_EXCLUDED_HELP } from '../load-inputs.js';
import { addSessionOptions } from '../session-options.js';
import { printSummary } from '../summary.js';

interface RunCliOptions {
  serverAliveInterval?: number;
  serverAliveCountMax?: number;
  inventory: string;
  limit?: string;
  decideWithoutExcludedHosts?: boolean;
  extraVar: string[];
  yes?: boolean;
  planHash?: string;
  forks: number;
  runDir?: string;
  output: OutputFormat;
  knownHosts?: string;
  acceptNewHostKeys?: boolean;
  operator?: string;
  breakLock?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('run')
    .description(
      'Apply a runbook unattended: diagnose, decide, fix, verify, with a journal and an exit code a caller can act on. Never prompts; mutating steps need --yes.',
    )
    .argument('<runbook>', 'runbook name (finds runbooks/**/<name>.yaml) or path')
    .requiredOption('-i, --inventory <file>', 'Ansible inventory (YAML or INI)')
    .option('-l, --limit <pattern>', 'restrict to hosts matching an Ansible pattern (one that matches no host is refused, exit 64)')
    .option(...DECIDE_WITHOUT_EXCLUDED_HELP)
    .option('-e, --extra-var <key=value>', 'set a param (repeatable; @file.yaml for a map)', collect, [])
    .option('-y, --yes', 'apply mutating steps (without it the run stops before the first one, exit 5)')
    .option('--plan-hash <hash>', 'refuse to start unless the plan is exactly the one approved (its hash from `remedy plan`)')
    .option('--run-dir <dir>', 'where the journal, outputs and artifacts go (default runs/<UTC time>-<runbook>/)');
  addSessionOptions(cmd)
    .addHelpText(
      'after',
      '\nExamples:\n  remedy run apigee-502-bad-gateway -i inventory/example.yaml            # diagnosis only, exit 5 before any change\n  remedy run apigee-502-bad-gateway -i prod.yaml --yes --plan-hash sha256:…\n',
    )
    .action(
      action(async (runbook: string, opts: RunCliOptions) => {
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
          mode: 'unattended',
          options: { forks: opts.forks, knownHosts: opts.knownHosts, acceptNewHostKeys: opts.acceptNewHostKeys, yes: opts.yes === true },
          planHash: opts.planHash,
          runDir: opts.runDir,
        });
        const { result, events } = await runSession({
          plan,
          inventory: inputs.inventory,
          strategy: new UnattendedStrategy({ yes: opts.yes === true, operator: opts.operator ?? osUser() }),
          runDir,
          runId: newRunId(),
          session: opts,
        });
        printSummary(result, events.events, runDir, opts.output, plan);
        return result.exitCode;
      }),
    );
}
