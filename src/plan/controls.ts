// Step controls the planner resolves: rolling batches, counts and durations templated over
// params, conditions decidable from params alone, and include host patterns.
import { ValidationError } from '../errors.js';
import { selectHosts } from '../inventory/index.js';
import type { Inventory } from '../inventory/types.js';
import { durationMs } from '../runbook/index.js';
import { DURATION_PATTERN, LIMITS } from '../runbook/schema.js';
import { checkExpression, evaluateCondition } from '../template/expression.js';
import { renderText } from '../template/index.js';

/** Rolling batches: `serial: 2` → pairs; `serial: "25%"` → a quarter of the hosts (at least one) per batch. */
export function batchHosts(hosts: string[], serial: number | string): string[][] {
  if (hosts.length === 0) return [];
  const size = Math.max(1, countOf(serial, hosts.length));
  const batches: string[][] = [];
  for (let i = 0; i < hosts.length; i += size) batches.push(hosts.slice(i, i + size));
  return batches;
}

/** `serial`/`max_unavailable` may be templated over params; the result must be a count or a percentage. */
export function renderCount(value: number | string, params: Record<string, unknown>, at: { file: string; line: number; col: number }): number | string {
  if (typeof value === 'number' || !value.includes('{{')) return value;
  const text = renderText(value, { ...params, params }).trim();
  if (/^\d+$/.test(text) && Number(text) >= 1 && Number(text) <= LIMITS.serial) return Number(text);
  if (/^(100|[1-9]?\d)%$/.test(text)) return text;
  throw new ValidationError([
    { ...at, message: `"${value}" rendered to "${text}", which is neither a count (1 to ${LIMITS.serial}) nor a percentage (0% to 100%)`, severity: 'error' },
  ]);
}

/** Durations may be templated over params (`interval: "{{ dump_interval }}"`). */
export function renderDuration(value: string, params: Record<string, unknown>, at: { file: string; line: number; col: number }): number {
  const text = value.includes('{{') ? renderText(value, { ...params, params }).trim() : value;
  if (!DURATION_PATTERN.test(text)) {
    throw new ValidationError([{ ...at, message: `"${value}" rendered to "${text}", which is not a duration such as 30s`, severity: 'error' }]);
  }
  const ms = durationMs(text);
  if (ms > LIMITS.durationMs)
    throw new ValidationError([{ ...at, message: `"${value}" rendered to "${text}": a duration may be at most 168h (7 days)`, severity: 'error' }]);
  return ms;
}

export function countOf(value: number | string, total: number): number {
  if (typeof value === 'number') return value;
  const pct = Number(value.replace('%', ''));
  return Math.max(1, Math.floor((total * pct) / 100));
}

export function joinConditions(parts: string[]): string | null {
  if (parts.length === 0) return null;
  if (parts.length === 1) return parts[0] as string;
  return parts.map((p) => `(${p})`).join(' && ');
}

/** true/false when a condition reads only params (decidable now), null when it needs run time. */
export function staticVerdict(condition: string, params: Record<string, unknown>): boolean | null {
  const checked = checkExpression(condition);
  if (!checked.ok) return null;
  const r = checked.refs;
  if (r.facts.length > 0 || r.patterns.length > 0 || r.usesCause || r.usesHost || r.usesResult || r.vars.length > 0) return null;
  if (/\b(facts|host|hosts|cause|result|vars)\b/.test(condition)) return null;
  try {
    return evaluateCondition(condition, { params, vars: {}, cause: null, selectHosts: () => [] });
  } catch {
    return null;
  }
}

const WITHIN = ' within ';
export function combinePatterns(own: string | null, inherited: string | null): string | null {
  if (inherited === null) return own;
  if (own === null || own === inherited) return inherited;
  return `${own}${WITHIN}${inherited}`;
}

export function selectCombined(inventory: Inventory, pattern: string): string[] {
  const parts = pattern.split(WITHIN);
  let hosts = selectHosts(inventory, parts[0] as string);
  for (const part of parts.slice(1)) {
    const within = new Set(selectHosts(inventory, part));
    hosts = hosts.filter((h) => within.has(h));
  }
  return hosts;
}
