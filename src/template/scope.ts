// The one place that decides what a template sees, so the planner, the executor and the
// validator agree: inventory vars as bare names, then the reserved roots, which win.

/** Names a template reads that are not inventory vars. */
export const RESERVED_ROOTS = ['params', 'vars', 'facts', 'cause', 'host', 'inventory_hostname'] as const;
export type ReservedRoot = (typeof RESERVED_ROOTS)[number];

export interface ScopeInput {
  params: Record<string, unknown>;
  vars: Record<string, unknown>;
  /** The targeted host; absent for steps that run on the controller. */
  host?: { name: string; groups: string[]; vars: Record<string, unknown> } | undefined;
  /** The host's facts; leave out (and pass deferred: {'facts'}) at plan time. */
  facts?: Record<string, unknown> | undefined;
  /** The concluded cause; '' before any decision. Leave out (deferred) at plan time. */
  cause?: string | null | undefined;
}

/**
 * `{{ apigee_root }}` (inventory var), `{{ params.x }}`, `{{ vars.y }}`, `{{ facts.z }}`,
 * `{{ cause }}`, `{{ host.name }}` / `{{ inventory_hostname }}`, `{{ host.groups }}`.
 */
export function templateScope(input: ScopeInput): Record<string, unknown> {
  const scope: Record<string, unknown> = { ...(input.host?.vars ?? {}) };
  scope['params'] = input.params;
  scope['vars'] = input.vars;
  if (input.host) {
    scope['host'] = { name: input.host.name, groups: input.host.groups, vars: input.host.vars };
    scope['inventory_hostname'] = input.host.name;
  }
  if (input.facts !== undefined) scope['facts'] = input.facts;
  if (input.cause !== undefined) scope['cause'] = input.cause ?? '';
  return scope;
}
