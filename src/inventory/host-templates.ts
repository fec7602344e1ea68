// What a host's inventory vars mean to a runbook: Jinja in them rendered lazily with Ansible's
// semantics (jinja.ts), and Ansible's magic vars (inventory_hostname, inventory_hostname_short,
// group_names, groups, hostvars). A var whose template remedy cannot render is not an error until
// something uses it; then the error names the host, the var and the construct.
import { JinjaError, UNDEFINED, hasJinja, renderJinja } from './jinja.js';
import type { JinjaScope } from './jinja.js';
import { groupHostsInOrder } from './patterns.js';
import type { Host, Inventory, VarValue, Vars } from './types.js';

const inventories = new WeakMap<Host, Inventory>();

/** Remembers which inventory a host belongs to (its groups and the other hosts' vars). */
export function registerHosts(inv: Inventory): void {
  for (const host of inv.hosts.values()) inventories.set(host, inv);
}

export function registerHost(inv: Inventory, host: Host): void {
  inventories.set(host, inv);
}

export interface RenderedHostVars {
  /** Every var that renders (plain values as they are). */
  values: Record<string, unknown>;
  /** Vars whose template cannot be rendered: var → the message to give when one is used. */
  failures: Map<string, string>;
}

const renderedCache = new WeakMap<Host, WeakMap<object, RenderedHostVars>>();
const NO_EXTRA: Record<string, unknown> = {};

/**
 * The host's vars with their templates rendered. `extra` (the run's params, i.e. -e) is visible to
 * the templates and wins over inventory vars, as extra vars do in Ansible.
 */
export function renderedHostVars(host: Host, extra: Record<string, unknown> = NO_EXTRA): RenderedHostVars {
  let perExtra = renderedCache.get(host);
  if (!perExtra) renderedCache.set(host, (perExtra = new WeakMap()));
  const cached = perExtra.get(extra);
  if (cached) return cached;
  const resolver = new HostResolver(host, extra);
  const values: Record<string, unknown> = {};
  const failures = new Map<string, string>();
  for (const [name, raw] of Object.entries(host.vars)) {
    if (!containsJinja(raw)) {
      values[name] = raw;
      continue;
    }
    try {
      values[name] = resolver.var(name);
    } catch (err) {
      failures.set(name, failureMessage(host.name, name, raw, err));
    }
  }
  const out = { values, failures };
  perExtra.set(extra, out);
  return out;
}

/** Ansible's magic vars for a host. */
export function magicVars(host: Host): Record<string, unknown> {
  const inv = inventories.get(host);
  return {
    inventory_hostname: host.name,
    inventory_hostname_short: host.name.split('.')[0] ?? host.name,
    group_names: host.groups.filter((g) => g !== 'all').sort(),
    groups: inv ? groupsOf(inv) : { all: [], ungrouped: [] },
    hostvars: inv ? hostvarsOf(inv) : {},
  };
}

/**
 * Renders one var's template for connection settings at load time, from the merged vars and the
 * magic vars known then (no params). Throws JinjaError.
 */
export function renderConnectionVar(host: string, vars: Vars, groups: string[], text: string): unknown {
  const magic: Record<string, unknown> = {
    inventory_hostname: host,
    inventory_hostname_short: host.split('.')[0] ?? host,
    group_names: groups.filter((g) => g !== 'all').sort(),
  };
  return new VarsResolver(vars, magic, NO_EXTRA).render(text);
}

const groupsCache = new WeakMap<Inventory, Record<string, string[]>>();
const hostvarsCache = new WeakMap<Inventory, Record<string, unknown>>();

/** Ansible's `groups`: every group, its hosts in Ansible's order (`all` without the implicit localhost). */
function groupsOf(inv: Inventory): Record<string, string[]> {
  let groups = groupsCache.get(inv);
  if (!groups) {
    groups = {};
    for (const name of inv.groups.keys()) groups[name] = groupHostsInOrder(inv, name);
    groupsCache.set(inv, groups);
  }
  return groups;
}

/** Ansible's `hostvars`: every host's vars, rendered when read. */
function hostvarsOf(inv: Inventory): Record<string, unknown> {
  let hostvars = hostvarsCache.get(inv);
  if (!hostvars) {
    hostvars = {};
    for (const host of inv.hosts.values()) {
      Object.defineProperty(hostvars, host.name, {
        enumerable: true,
        get: () => ({ ...renderedHostVars(host).values, ...magicVars(host) }),
      });
    }
    hostvarsCache.set(inv, hostvars);
  }
  return hostvars;
}

function containsJinja(v: VarValue): boolean {
  if (typeof v === 'string') return hasJinja(v);
  if (Array.isArray(v)) return v.some(containsJinja);
  if (v !== null && typeof v === 'object') return Object.values(v).some(containsJinja);
  return false;
}

function failureMessage(host: string, name: string, raw: VarValue, err: unknown): string {
  const why = err instanceof Error ? err.message : String(err);
  const construct = err instanceof JinjaError && err.construct ? ` (${err.construct})` : '';
  return `host ${host}: inventory var ${name} = ${JSON.stringify(raw)} cannot be rendered${construct}: ${why}`;
}

/** Names for Jinja: extra vars, then magic vars, then the vars (each rendered once, loops caught). */
class VarsResolver implements JinjaScope {
  private readonly done = new Map<string, unknown>();
  private readonly active = new Set<string>();
  private readonly vars: Vars;
  private readonly magic: Record<string, unknown>;
  private readonly extra: Record<string, unknown>;
  constructor(vars: Vars, magic: Record<string, unknown>, extra: Record<string, unknown>) {
    this.vars = vars;
    this.magic = magic;
    this.extra = extra;
  }

  lookup(name: string): unknown {
    if (Object.prototype.hasOwnProperty.call(this.extra, name)) return this.extra[name];
    if (Object.prototype.hasOwnProperty.call(this.magic, name)) return this.magic[name];
    if (!Object.prototype.hasOwnProperty.call(this.vars, name)) return UNDEFINED;
    return this.var(name);
  }

  var(name: string): unknown {
    if (this.done.has(name)) return this.done.get(name);
    if (this.active.has(name)) throw new JinjaError(`recursive loop detected in template (${[...this.active, name].join(' -> ')})`);
    this.active.add(name);
    try {
      const value = this.renderValue(this.vars[name] as VarValue);
      this.done.set(name, value);
      return value;
    } finally {
      this.active.delete(name);
    }
  }

  render(text: string): unknown {
    return renderJinja(text, this);
  }

  private renderValue(v: VarValue): unknown {
    if (typeof v === 'string') return hasJinja(v) ? renderJinja(v, this) : v;
    if (Array.isArray(v)) return v.map((x) => this.renderValue(x));
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.renderValue(x)]));
    return v;
  }
}

class HostResolver extends VarsResolver {
  constructor(host: Host, extra: Record<string, unknown>) {
    super(host.vars, magicVars(host), extra);
  }
}
