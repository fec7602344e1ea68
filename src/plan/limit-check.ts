// Refusals of a --limit that would make the run say more than it can see: a limit that matches
// no host at all (a typo, a stale alert host), and a limit that leaves out every host of a group a
// `decide` condition reads (its causes would be decided blind). Checked before anything runs.
import { UsageError } from '../errors.js';
import { limitHosts, selectHosts } from '../inventory/index.js';
import type { Inventory } from '../inventory/types.js';
import { suggest } from '../runbook/structure.js';
import { checkExpression } from '../template/expression.js';
import type { Plan } from './types.js';

/** The option that lets a decide step run without the groups a limit leaves out. */
export const PARTIAL_EVIDENCE_FLAG = '--decide-without-excluded-hosts';

export interface LimitCheckOptions {
  limit: string | undefined;
  /** PARTIAL_EVIDENCE_FLAG given: decide anyway (the plan still warns). */
  allowExcludedEvidence?: boolean | undefined;
}

/** Throws UsageError (exit 64) on a refused limit; returns warnings to print (the opt-in's cost). */
export function checkLimit(plan: Plan, inventory: Inventory, options: LimitCheckOptions): string[] {
  const { limit } = options;
  if (limit === undefined || limit.trim() === '') return [];
  const all = [...inventory.hosts.keys()];
  if (limitHosts(inventory, all, limit).length === 0) {
    const names = [...new Set([...inventory.groups.keys(), ...all])];
    const words = limit
      .split(/[,:]/)
      .map((w) => w.replace(/^[!&]/, '').trim())
      .filter((w) => w !== '' && !/[*?[\]~@]/.test(w));
    const hint = words.map((w) => (names.includes(w) ? '' : suggest(w, names))).find((h) => h !== '') ?? '';
    throw new UsageError(`--limit '${limit}' matches no host in ${inventory.source}${hint}; nothing would be diagnosed or fixed`);
  }
  const blind: { step: string; pattern: string; hosts: string[] }[] = [];
  for (const step of plan.steps) {
    if (step.kind !== 'decide') continue;
    const decide = step.templates.decide;
    const patterns = new Set<string>();
    for (const c of decide.causes) {
      const checked = checkExpression(c.when);
      if (checked.ok) for (const p of checked.refs.patterns) patterns.add(p);
    }
    for (const pattern of patterns) {
      const hosts = selectHosts(inventory, pattern);
      if (hosts.length > 0 && limitHosts(inventory, hosts, limit).length === 0) blind.push({ step: step.id, pattern, hosts });
    }
  }
  if (blind.length === 0) return [];
  const what = blind.map((b) => `"${b.pattern}" (${b.hosts.join(', ')}), which decide step ${b.step} reads`).join('; ');
  if (options.allowExcludedEvidence) {
    return [`--limit '${limit}' leaves out every host of ${what}: its causes are decided without them (${PARTIAL_EVIDENCE_FLAG})`];
  }
  throw new UsageError(
    `--limit '${limit}' leaves out every host of ${what}: its causes could not be seen, so the diagnosis would be blind. Widen --limit to include them, or pass ${PARTIAL_EVIDENCE_FLAG} to decide without them (a cause only those hosts show is then missed)`,
  );
}
