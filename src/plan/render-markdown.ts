// The plan as Markdown, for a change ticket: a reviewer sees every command per host and the
// hash that `remedy run --plan-hash` will hold the run to.
import { describeStep } from './describe.js';
import { groupCommands } from './render-text.js';
import type { Plan, PlanStep } from './types.js';

export function renderPlanMarkdown(plan: Plan): string {
  const out: string[] = [];
  out.push(`# Plan: ${plan.runbook}`, '', plan.summary, '');
  out.push('| | |', '|---|---|');
  out.push(`| Plan hash | \`${plan.planHash}\` |`);
  out.push(`| Hosts | ${plan.hosts.length}: ${plan.hosts.map((h) => `\`${h}\``).join(', ')} |`);
  out.push(`| Steps | ${plan.steps.length} (${plan.steps.filter((s) => s.mutates).length} mutating) |`);
  const params = Object.entries(plan.params);
  if (params.length > 0) out.push(`| Params | ${params.map(([k, v]) => `\`${k}=${cell(String(v))}\``).join(' ')} |`);
  if (plan.causes.length > 0) out.push(`| Possible causes | ${plan.causes.join(', ')} |`);
  out.push('', '## Steps', '');
  out.push('| # | Step | Kind | Changes hosts | Hosts | Condition |', '|---|---|---|---|---|---|');
  plan.steps.forEach((s, i) => {
    out.push(
      `| ${i + 1} | \`${s.id}\` ${cell(s.name)} | ${s.kind} | ${s.mutates ? '**yes**' : 'no'} | ${s.hosts.length || '—'} | ${s.whenText ? cell(s.whenText) : '—'} |`,
    );
  });
  plan.steps.forEach((s, i) => out.push('', ...stepSection(s, `${i + 1}`)));
  if (plan.warnings.length > 0) out.push('', '## Warnings', '', ...plan.warnings.map((w) => `- ${w}`));
  out.push('', `Apply exactly this plan: \`remedy run ${plan.runbook} ... --yes --plan-hash ${plan.planHash}\``, '');
  return out.join('\n');
}

function stepSection(s: PlanStep, number: string): string[] {
  const out = [`### ${number}. \`${s.id}\` — ${s.name}${s.mutates ? ' (mutating)' : ''}`, ''];
  if (s.whenText) out.push(`- **When:** ${s.whenText}`);
  if (s.hostPattern !== null) out.push(`- **Hosts:** \`${s.hostPattern}\` → ${s.hosts.join(', ') || 'none'}`);
  if (s.confirm) out.push(`- **Confirm:** ${s.confirm}`);
  if (s.batches) out.push(`- **Batches:** ${s.batches.map((b) => `[${b.join(', ')}]`).join(' → ')}`);
  for (const d of describeStep(s).details) {
    if (d.kind === 'ends') out.push(`- **Ends the run:** ${d.status} — ${d.message}`);
    else out.push(d.when === null ? `- **→ ${d.cause}** otherwise` : `- **→ ${d.cause}** if \`${d.when}\``);
  }
  for (const g of groupCommands(s)) out.push('', `${g.hosts.join(', ')}:`, '', '```sh', g.command, '```');
  if (s.diff) out.push('', '```diff', s.diff, '```');
  s.rollback.forEach((r, i) => out.push('', ...stepSection(r, `${number}.rollback.${i + 1}`)));
  return out;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
