// remedy graph: the executor's control flow for a runbook (plan/step-graph.ts) as a Mermaid flowchart.
import type { Command } from 'commander';
import { renderPlanMermaid } from '../../plan/index.js';
import { planFromFiles } from '../../session/inputs.js';
import { action } from '../exit.js';
import { collect } from '../load-inputs.js';

export function register(program: Command): void {
  program
    .command('graph')
    .description(
      "Print the executor's control flow for the runbook as a Mermaid flowchart: every arrow is a step the executor can run next (paste into a Markdown file or mermaid.live).",
    )
    .argument('<runbook>', 'runbook name or path')
    .option('-i, --inventory <file>', "Ansible inventory, only when params default from inventory vars (the graph is the runbook's, no inventory needed)")
    .option('-e, --extra-var <key=value>', 'set a param (repeatable)', collect, [])
    .action(
      action(async (runbook: string, opts: { inventory?: string; extraVar: string[] }) => {
        const { plan } = planFromFiles(runbook, { inventory: opts.inventory, extraVars: opts.extraVar });
        process.stdout.write(renderPlanMermaid(plan));
        return 0;
      }),
    );
}
