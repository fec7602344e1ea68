// Rendering one step for one host: shared by the planner (facts deferred, secrets redacted) and
// the executor (facts known, real secrets), so `plan` shows exactly what `run` sends.
import type { Host } from '../inventory/types.js';
import { wrapBecome, type WrappedCommand } from '../shell/become.js';
import { analyzeTemplate, renderCommand, renderText } from '../template/index.js';
import { DEFERRED_ROOTS, readsRuntime, stepScope, type HostRuntime } from './scope.js';
import type { Plan, PlanStep } from './types.js';

export type { HostRuntime } from './scope.js';
export { hostScope } from './scope.js';

/** The user a step runs as on a host, or null: the step's `become`, else the inventory's ansible_become. */
export function becomeUser(step: PlanStep, host: Host): string | null {
  if (step.become === true) return host.become.user;
  if (step.become === false) return null;
  // `become: "{{ apigee_user }}"`: the service user differs per inventory, so it is a host var.
  if (typeof step.become === 'string') return step.become.includes('{{') ? renderText(step.become, stepScope(step, host, null)).trim() : step.become;
  return host.become.always ? host.become.user : null;
}

/**
 * Renders a command template of the step for a host, quoted, and wraps it for become.
 * `runtime` null means plan time: facts and cause render as ⟨markers⟩.
 *
 * A command that reads no run-time value (no facts, cause, run, steps or fleet, in it or in the
 * vars of its level) renders the same at plan time as at run time, for every run of the same
 * plan inputs: it is rendered once per (level scope, host, become) and the result shared by the
 * planner and the executor. The planner interns level scopes per inventory and params, so plans
 * that differ only elsewhere (`remedy test` makes dozens from one runbook) share these too.
 */
export function renderHostCommand(
  _plan: Plan | null,
  step: PlanStep,
  host: Host,
  template: string,
  runtime: HostRuntime | null,
  become: string | null = becomeUser(step, host),
): WrappedCommand {
  if (runtime !== null && !rendersAsPlanned(step, template)) return renderWrapped(step, host, template, runtime, become);
  let perScope = staticRenders.get(step.scope);
  if (!perScope) staticRenders.set(step.scope, (perScope = new WeakMap()));
  let perHost = perScope.get(host);
  if (!perHost) perScope.set(host, (perHost = new Map()));
  // No become (null) is kept apart from any user name, the empty one included.
  const key = `${become === null ? '\u0001' : `=${become}`}\u0000${template}`;
  let wrapped = perHost.get(key);
  if (!wrapped) perHost.set(key, (wrapped = Object.freeze(renderWrapped(step, host, template, null, become))));
  return wrapped;
}

/** By scope (interned per inventory by the planner, as scope.ts's per-host caches assume), then host. */
const staticRenders = new WeakMap<PlanStep['scope'], WeakMap<Host, Map<string, WrappedCommand>>>();

/** Whether the run-time render of a template equals its plan-time render (see renderHostCommand). */
function rendersAsPlanned(step: PlanStep, template: string): boolean {
  if (isPlainText(template)) return true;
  if (readsRuntime(step.scope)) return false;
  let known = staticTemplates.get(template);
  if (known === undefined) {
    // A computed root (`{{ [name].x }}`) could name any root: never taken as static.
    const computed = [...template.matchAll(/\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g)].some((m) => m[0].includes('['));
    known = !computed && analyzeTemplate(template).references.every((r) => !DEFERRED_ROOTS.has(r.segments[0] ?? ''));
    if (staticTemplates.size >= 10_000) staticTemplates.clear();
    staticTemplates.set(template, known);
  }
  return known;
}
const staticTemplates = new Map<string, boolean>();

function renderWrapped(step: PlanStep, host: Host, template: string, runtime: HostRuntime | null, become: string | null): WrappedCommand {
  // A YAML block scalar (`run: |`) ends in a newline; the shell does not need it and plans read better without.
  // A command with no Liquid in it renders as itself: no scope is built for it (once per host and step).
  const rendered = isPlainText(template)
    ? template
    : renderCommand(template, stepScope(step, host, runtime), runtime ? undefined : { deferred: DEFERRED_ROOTS });
  const command = rendered.replace(/\s+$/, '');
  if (become === null) return { command };
  return wrapBecome(command, { method: host.become.method, user: become, password: host.become.password });
}

export function renderHostText(_plan: Plan | null, step: PlanStep, host: Host | null, template: string, runtime: HostRuntime | null): string {
  return renderText(template, stepScope(step, host, runtime), runtime ? undefined : { deferred: DEFERRED_ROOTS });
}

/** Text without Liquid output or tags: what any render of it returns. */
function isPlainText(template: string): boolean {
  return !template.includes('{{') && !template.includes('{%');
}
