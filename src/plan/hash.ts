// planHash: sha256 over the canonical JSON projection of the plan (sorted keys, no hash field),
// so an approval can bind to exactly what was reviewed.
import { createHash } from 'node:crypto';
import { planToJson } from './json.js';
import type { Plan } from './types.js';

export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

export function planHash(plan: Plan): string {
  const { planHash: _omit, ...rest } = planToJson(plan);
  return `sha256:${createHash('sha256').update(canonicalJson(rest)).digest('hex')}`;
}
