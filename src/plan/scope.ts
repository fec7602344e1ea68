// Template scopes: what `{{ name }}` means for a step on a host. Ansible's flat namespace, with
// its precedence: inventory vars < runbook vars < params (-e wins), plus the structured views
// `params.x`, `vars.x`, `host.name`, `facts.x` and `cause`.
import { renderedHostVars, magicVars } from '../inventory/index.js';
import type { Host } from '../inventory/types.js';
import { TemplateError, renderText } from '../template/index.js';
import type { Plan, PlanStep } from './types.js';

export interface HostRuntime {
  facts: Record<string, unknown>;
  cause: string | null;
  /** `{{ run.id }}`, `{{ run.dir }}`: e.g. to name backups a rollback restores. */
  run?: { id: string; dir: string } | undefined;
  /** `{{ steps.verify.status }}`, `{{ steps.fix.changed }}`: what each step did so far (engine/ledger.ts). */
  steps?: Record<string, unknown> | undefined;
  /**
   * Controller steps (outcome messages): `fleet.<group>`, the run's hosts of that group, each
   * `{name, status, facts}`, so a message can name the hosts it speaks of and what was seen on them.
   */
  fleet?: Record<string, unknown> | undefined;
}

/** Values only known at run time; at plan time they render as ⟨facts.x⟩ / ⟨cause⟩ / ⟨run.id⟩ markers. */
export const DEFERRED_ROOTS: ReadonlySet<string> = new Set(['facts', 'cause', 'run', 'steps', 'fleet']);

type VarsCache = WeakMap<object, Map<string, Record<string, unknown>>>;
const planVarsCache: VarsCache = new WeakMap();

/**
 * Runbook vars are templates over params and inventory vars, so they are rendered per host
 * (a var may use earlier vars). At plan time (deferred set) they are cached per (level, host);
 * at run time they are rendered fresh, with the host's current facts in scope.
 */
export function renderVars(scope: PlanStep['scope'], host: Host | null, deferred?: ReadonlySet<string>, runtime?: HostRuntime): Record<string, unknown> {
  // Vars that read no run-time value render the same at run time as at plan time: reuse those
  // (conditions render a level's vars once per host and step, `remedy test` thousands of times).
  if (runtime && !deferred && !readsRuntime(scope)) return renderVars(scope, host, DEFERRED_ROOTS);
  const key = host?.name ?? '';
  let perHost: Map<string, Record<string, unknown>> | undefined;
  if (deferred) {
    perHost = planVarsCache.get(scope);
    if (!perHost) planVarsCache.set(scope, (perHost = new Map()));
    const cached = perHost.get(key);
    if (cached) return cached;
  }
  const base = baseScope(host, scope.params, {});
  if (runtime) Object.assign(base, runtimeValues(runtime));
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(scope.vars)) {
    if (typeof value !== 'string') {
      out[name] = value;
      continue;
    }
    try {
      out[name] = renderText(value, { ...base, ...out, vars: out }, deferred ? { deferred } : undefined);
    } catch {
      // A var built from vars this host lacks (router_port on an MP) is left undefined: only a
      // command that uses it on such a host fails, naming the var.
    }
  }
  perHost?.set(key, out);
  return out;
}

const runtimeReaders = new WeakMap<object, boolean>();
/** Whether any var of the level mentions facts, cause or run (then each run-time render is fresh). */
export function readsRuntime(scope: PlanStep['scope']): boolean {
  let reads = runtimeReaders.get(scope);
  if (reads === undefined) {
    // Only names inside {{ }} / {% %} count: a literal path such as /var/run/… reads nothing.
    const roots = new RegExp(`\\b(${[...DEFERRED_ROOTS].join('|')})\\b`);
    const tags = (v: string): string[] => [...v.matchAll(/\{[{%]([\s\S]*?)[}%]\}/g)].map((m) => m[1] ?? '');
    reads = Object.values(scope.vars).some((v) => typeof v !== 'string' || tags(v).some((t) => roots.test(t)));
    runtimeReaders.set(scope, reads);
  }
  return reads;
}

function runtimeValues(runtime: HostRuntime): Record<string, unknown> {
  return { facts: runtime.facts, cause: runtime.cause ?? '', run: runtime.run ?? { id: '', dir: '' }, steps: runtime.steps ?? {}, fleet: runtime.fleet ?? {} };
}

function baseScope(host: Host | null, params: Record<string, unknown>, vars: Record<string, unknown>): Record<string, unknown> {
  // Inventory vars with their Jinja rendered (Ansible's semantics), plus Ansible's magic vars.
  const inventory = host ? renderedHostVars(host, params) : null;
  const scope: Record<string, unknown> = {
    ...(inventory?.values ?? {}),
    ...vars,
    ...params,
    ...(host ? magicVars(host) : {}),
    params,
    vars,
    host: host ? { name: host.name, groups: host.groups, vars: inventory?.values ?? host.vars } : { name: 'controller', groups: [], vars: {} },
  };
  // A var whose template remedy cannot render fails only where it is used, naming host, var and construct.
  for (const [name, message] of inventory?.failures ?? []) {
    if (name in scope) continue;
    Object.defineProperty(scope, name, {
      enumerable: false,
      get: () => {
        throw new TemplateError(message);
      },
    });
  }
  return scope;
}

const planScopeCache: VarsCache = new WeakMap();

/** The full scope for a step on a host (or on the controller when host is null). */
export function stepScope(step: PlanStep, host: Host | null, runtime: HostRuntime | null): Record<string, unknown> {
  if (!runtime) {
    // Plan time: one scope per (runbook level, host), shared by all its steps — a 1000-host plan
    // would otherwise copy every host's vars once per step.
    let perHost = planScopeCache.get(step.scope);
    if (!perHost) planScopeCache.set(step.scope, (perHost = new Map()));
    const key = host?.name ?? '';
    const cached = perHost.get(key);
    if (cached) return cached;
    const scope = baseScope(host, step.scope.params, renderVars(step.scope, host, DEFERRED_ROOTS));
    perHost.set(key, scope);
    return scope;
  }
  const scope = runtimeBase(host, step.scope.params, renderVars(step.scope, host, undefined, runtime));
  return Object.assign(scope, runtimeValues(runtime));
}

const runtimeBaseCache = new WeakMap<object, WeakMap<object, WeakMap<object, Record<string, unknown>>>>();
const CONTROLLER = {};

/**
 * A fresh copy of baseScope for run time: vars that read no run-time value come back as the same
 * object (renderVars), so the merge of inventory vars, vars, params and magic vars is made once
 * per (host, params, vars) and copied, not rebuilt for every command, condition and capture.
 */
function runtimeBase(host: Host | null, params: Record<string, unknown>, vars: Record<string, unknown>): Record<string, unknown> {
  let byParams = runtimeBaseCache.get(host ?? CONTROLLER);
  if (!byParams) runtimeBaseCache.set(host ?? CONTROLLER, (byParams = new WeakMap()));
  let byVars = byParams.get(params);
  if (!byVars) byParams.set(params, (byVars = new WeakMap()));
  let base = byVars.get(vars);
  if (!base) byVars.set(vars, (base = baseScope(host, params, vars)));
  // The copy keeps the getters of vars that cannot be rendered (not enumerable, so not spread).
  const copy = { ...base };
  for (const [name, message] of (host ? renderedHostVars(host, params).failures : null) ?? []) {
    if (name in copy) continue;
    Object.defineProperty(copy, name, {
      enumerable: false,
      get: () => {
        throw new TemplateError(message);
      },
    });
  }
  return copy;
}

/** Context for CEL conditions of a step on a host (the engine adds `selectHosts` and `result`). */
export function hostScope(_plan: Plan, step: PlanStep, host: Host, runtime: HostRuntime): Record<string, unknown> {
  return stepScope(step, host, runtime);
}
