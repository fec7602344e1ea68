// Template scopes: what `{{ name }}` means for a step on a host. Ansible's flat namespace, with
// its precedence: inventory vars < runbook vars < params (-e wins), plus the structured views
// `params.x`, `vars.x`, `host.name`, `facts.x` and `cause`.
import type { Host } from '../inventory/types.js';
import { renderText } from '../template/index.js';
import type { Plan, PlanStep } from './types.js';

export interface HostRuntime {
  facts: Record<string, unknown>;
  cause: string | null;
  /** `{{ run.id }}`, `{{ run.dir }}`: e.g. to name backups a rollback restores. */
  run?: { id: string; dir: string } | undefined;
}

/** Values only known at run time; at plan time they render as ⟨facts.x⟩ / ⟨cause⟩ / ⟨run.id⟩ markers. */
export const DEFERRED_ROOTS: ReadonlySet<string> = new Set(['facts', 'cause', 'run']);

type VarsCache = WeakMap<object, Map<string, Record<string, unknown>>>;
const varsCache: VarsCache = new WeakMap();

/**
 * Runbook vars are templates over params and inventory vars, so they are rendered per host
 * (a var may use earlier vars). Cached per (scope, host): a plan renders them once per host per
 * runbook level, not once per step.
 */
export function renderVars(scope: PlanStep['scope'], host: Host | null, deferred?: ReadonlySet<string>): Record<string, unknown> {
  const key = host?.name ?? '';
  let perHost = varsCache.get(scope);
  if (!perHost) varsCache.set(scope, (perHost = new Map()));
  const cached = perHost.get(key);
  if (cached) return cached;
  const base = baseScope(host, scope.params, {});
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(scope.vars)) {
    const rendered = typeof value === 'string' ? renderText(value, { ...base, ...out, vars: out }, deferred ? { deferred } : undefined) : value;
    out[name] = rendered;
  }
  perHost.set(key, out);
  return out;
}

function baseScope(host: Host | null, params: Record<string, unknown>, vars: Record<string, unknown>): Record<string, unknown> {
  return {
    ...(host?.vars ?? {}),
    ...vars,
    ...params,
    params,
    vars,
    host: host ? { name: host.name, groups: host.groups, vars: host.vars } : { name: 'controller', groups: [], vars: {} },
  };
}

/** The full scope for a step on a host (or on the controller when host is null). */
export function stepScope(step: PlanStep, host: Host | null, runtime: HostRuntime | null): Record<string, unknown> {
  const vars = renderVars(step.scope, host, runtime ? undefined : DEFERRED_ROOTS);
  const scope = baseScope(host, step.scope.params, vars);
  if (runtime) {
    scope.facts = runtime.facts;
    scope.cause = runtime.cause ?? '';
    scope.run = runtime.run ?? { id: '', dir: '' };
  }
  return scope;
}

/** Context for CEL conditions of a step on a host (the engine adds `selectHosts` and `result`). */
export function hostScope(_plan: Plan, step: PlanStep, host: Host, runtime: HostRuntime): Record<string, unknown> {
  return stepScope(step, host, runtime);
}
