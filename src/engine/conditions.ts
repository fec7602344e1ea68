// Conditions at run time: per-host `when`, fleet-level decisions and `until` checks, all through
// the sandboxed CEL evaluator, over a live view of the fleet (every host's facts and status).
import { selectHosts } from '../inventory/index.js';
import type { Host, Inventory } from '../inventory/types.js';
import { DEFERRED_ROOTS, readsRuntime, renderVars, type HostRuntime } from '../plan/scope.js';
import type { PlanStep } from '../plan/types.js';
import { evaluateCondition, type ExpressionContext, type HostView } from '../template/expression.js';
import type { RunState } from './state.js';

export interface CheckResult {
  exit_code: number | null;
  stdout: string;
  stderr: string;
}

export class Conditions {
  readonly #inventory: Inventory;
  readonly #state: RunState;
  readonly #patternCache = new Map<string, string[]>();
  readonly #runtime: (host: string | null, step?: PlanStep) => HostRuntime;

  constructor(inventory: Inventory, state: RunState, runtime: (host: string | null, step?: PlanStep) => HostRuntime) {
    this.#inventory = inventory;
    this.#state = state;
    this.#runtime = runtime;
  }

  hostView(host: Host): HostView {
    return { name: host.name, groups: host.groups, vars: host.vars, facts: this.#state.factsOf(host.name), status: this.#state.statusOf(host.name) };
  }

  /** The hosts a fleet-level pattern names, with their current facts (inventory order). */
  select(pattern: string): HostView[] {
    let names = this.#patternCache.get(pattern);
    if (!names) this.#patternCache.set(pattern, (names = selectHosts(this.#inventory, pattern)));
    return names.map((n) => this.hostView(this.#inventory.hosts.get(n) as Host));
  }

  context(step: PlanStep, host: Host | null, result?: CheckResult, expression?: string): ExpressionContext {
    const ctx: ExpressionContext = {
      params: step.scope.params,
      // Vars that read no run-time value render as planned: no runtime view is built for them
      // (a decide step's fleet view per condition evaluation was most of its cost).
      vars: readsRuntime(step.scope)
        ? renderVars(step.scope, host, undefined, this.#runtime(host?.name ?? null))
        : renderVars(step.scope, host, DEFERRED_ROOTS),
      cause: this.#state.cause,
      selectHosts: (pattern: string) => this.select(pattern),
    };
    // Only an expression that reads `steps` pays for converting them.
    if (expression === undefined || expression.includes('steps')) ctx.steps = this.#runtime(host?.name ?? null, step).steps;
    if (host) ctx.host = this.hostView(host);
    if (result) ctx.result = result;
    return ctx;
  }

  /** Evaluates a condition; throws the evaluator's error (with the expression) when it cannot. */
  evaluate(expression: string, step: PlanStep, host: Host | null, result?: CheckResult): boolean {
    return evaluateCondition(expression, this.context(step, host, result, expression));
  }
}

/** Inventory vars an expression reads per host (`m.vars.x`): shown beside the facts they are compared with. */
export function varsMentioned(expression: string): string[] {
  return [...new Set([...expression.matchAll(/\b[a-z_][a-z0-9_]*\.vars\.([a-z_][a-z0-9_]*)/gi)].map((m) => m[1] as string))];
}

/** Names of facts an expression mentions (`facts.x`, `h.facts.x`), to keep decision evidence short. */
export function factsMentioned(expression: string): string[] {
  return [...new Set([...expression.matchAll(/\bfacts\.([a-z][a-z0-9_]*)/g)].map((m) => m[1] as string))];
}
