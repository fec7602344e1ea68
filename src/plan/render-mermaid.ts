// The runbook's decision tree as a Mermaid flowchart (`remedy plan --format mermaid`,
// `remedy graph`): diagnosis in a line, the decide step as a diamond, one branch per cause.
import type { Plan, PlanStep } from './types.js';

export function renderPlanMermaid(plan: Plan): string {
  const lines = ['flowchart TD', `  start([${label(plan.runbook)}])`];
  const branchOf = (s: PlanStep): string | null => {
    const m = /cause\s*==\s*["']([a-z0-9-]+)["']/.exec(s.when ?? '');
    return m ? (m[1] as string) : null;
  };
  let previous = 'start';
  let decision: string | null = null;
  const branchTail = new Map<string, string>();
  const ends: string[] = [];
  plan.steps.forEach((step, i) => {
    const id = `s${i}`;
    const text = `${step.id}: ${step.name}`;
    if (step.kind === 'decide') {
      lines.push(`  ${id}{${label(text)}}`);
      lines.push(`  ${previous} --> ${id}`);
      decision = id;
      previous = id;
      return;
    }
    const shape = step.kind === 'outcome' ? `([${label(`${step.templates.outcome?.status ?? ''}: ${step.name}`)}])` : step.mutates ? `[/${label(text)}/]` : `[${label(text)}]`;
    lines.push(`  ${id}${shape}`);
    if (step.mutates) lines.push(`  class ${id} mutating`);
    const branch = decision ? branchOf(step) : null;
    if (decision && branch) {
      const tail = branchTail.get(branch);
      lines.push(tail ? `  ${tail} --> ${id}` : `  ${decision} -->|${label(branch)}| ${id}`);
      branchTail.set(branch, id);
    } else {
      // A step outside any branch joins every open branch (or follows the previous step).
      // Branches that ended with an outcome do not continue.
      const from = branchTail.size > 0 ? [...branchTail.values()].filter((t) => !ends.includes(t)) : [previous];
      for (const f of from) lines.push(`  ${f} --> ${id}`);
      branchTail.clear();
      previous = id;
    }
    if (step.kind === 'outcome') ends.push(id);
  });
  lines.push('  classDef mutating fill:#fde2e1,stroke:#c0392b,stroke-width:2px');
  return `${lines.join('\n')}\n`;
}

function label(text: string): string {
  return `"${text.replace(/"/g, '#quot;').replace(/[[\]{}()<>]/g, ' ')}"`;
}
