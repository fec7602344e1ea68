// remedy plan: what a runbook would do, exactly, with no side effects (or, with --probe, after
// running only its read-only diagnosis for real).
import { type Command, Option } from 'commander';
import { planToJson, renderPlanMarkdown, renderPlanMermaid, renderPlanText } from '../../plan/index.js';
import { planFromFiles } from '../../session/inputs.js';
import { action } from '../exit.js';
import { collect, DECIDE_WITHOUT_EXCLUDED_HELP } from '../load-inputs.js';
import { applyCommand } from '../next-command.js';
import { wholeNumberOption } from '../session-options.js';
import { runProbe } from './probe.js';

export const PLAN_FORMATS = ['text', 'json', 'markdown', 'mermaid'] as const;
type PlanFormat = (typeof PLAN_FORMATS)[number];

export function register(program: Command): void {
  program
    .command('plan')
    .description(
      'Show exactly which commands a runbook would run on which hosts, in which order, behind which conditions and approvals. Makes no connection unless --probe.',
    )
    .argument('<runbook>', 'runbook name (finds runbooks/**/<name>.yaml) or path')
    .requiredOption('-i, --inventory <file>', 'Ansible inventory (YAML or INI)')
    .option('-l, --limit <pattern>', 'restrict to hosts matching an Ansible pattern (one that matches no host is refused, exit 64)')
    .option(...DECIDE_WITHOUT_EXCLUDED_HELP)
    .option('-e, --extra-var <key=value>', 'set a param (repeatable; @file.yaml for a map)', collect, [])
    .addOption(new Option('-f, --format <format>', 'output format').choices(PLAN_FORMATS).default('text'))
    .option('--probe', 'run the read-only steps for real over SSH, resolve decisions, and show the mutations that would follow')
    .option('--known-hosts <file>', 'known_hosts file to verify host keys against (with --probe)')
    .option('--accept-new-host-keys', 'record unknown host keys instead of refusing them (with --probe)')
    .option('--run-dir <dir>', 'where the probe keeps the full outputs of the commands it ran (with --probe; it writes no journal)')
    .option(
      '--server-alive-interval <seconds>',
      'SSH keepalive interval (with --probe; see remedy run --help)',
      wholeNumberOption('--server-alive-interval', 0, 86_400),
    )
    .option(
      '--server-alive-count-max <n>',
      'unanswered keepalives before a host is unreachable (with --probe)',
      wholeNumberOption('--server-alive-count-max', 1, 1000),
    )
    .option('--forks <n>', 'hosts contacted at once (with --probe)', (v) => Number.parseInt(v, 10), 50)
    .addHelpText(
      'after',
      '\nExamples:\n  remedy plan apigee-502-bad-gateway -i inventory/example.yaml\n  remedy plan apigee-502-bad-gateway -i inventory/example.yaml --format markdown > change.md\n  remedy plan apigee-502-bad-gateway -i .remedy-lab/inventory.yaml --probe\n',
    )
    .action(
      action(
        async (
          runbook: string,
          opts: {
            inventory: string;
            limit?: string;
            decideWithoutExcludedHosts?: boolean;
            extraVar: string[];
            format: PlanFormat;
            probe?: boolean;
            knownHosts?: string;
            acceptNewHostKeys?: boolean;
            serverAliveInterval?: number;
            serverAliveCountMax?: number;
            runDir?: string;
            forks: number;
          },
        ) => {
          const inputs = planFromFiles(runbook, {
            inventory: opts.inventory,
            extraVars: opts.extraVar,
            limit: opts.limit,
            decideWithoutExcludedHosts: opts.decideWithoutExcludedHosts,
          });
          const next = applyCommand({
            runbook,
            inventory: opts.inventory,
            limit: opts.limit,
            decideWithoutExcludedHosts: opts.decideWithoutExcludedHosts,
            extraVars: opts.extraVar,
            secretParams: inputs.plan.secretParams,
            planHash: inputs.plan.planHash,
          });
          if (opts.probe) return runProbe(inputs, { ...opts, applyCommand: next });
          process.stdout.write(formatPlan(inputs.plan, opts.format, next));
          return 0;
        },
      ),
    );
}

export function formatPlan(plan: Parameters<typeof renderPlanText>[0], format: PlanFormat, applyCommand?: string): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(planToJson(plan), null, 2)}\n`;
    case 'markdown':
      return renderPlanMarkdown(plan);
    case 'mermaid':
      return renderPlanMermaid(plan);
    default:
      return renderPlanText(plan, { color: useColor(process.stdout), applyCommand });
  }
}

export function useColor(stream: NodeJS.WriteStream): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}
