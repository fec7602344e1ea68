// What both readers (YAML, INI) produce: groups, hosts and vars exactly as the file declares them,
// each var with the place it was set. Mirrors Ansible's InventoryData: `all` and `ungrouped`
// always exist, a group or host can be declared many times and its vars accumulate, and
// reconcile() applies the implicit rules (top-level groups belong to `all`, hosts in no group
// belong to `ungrouped`).
import type { Diagnostic, SourcePos } from '../errors.js';
import type { VarValue, Vars } from './types.js';

/** Vars plus where each was set, so later checks can point at the line that set a bad value. */
export interface VarLayer {
  vars: Vars;
  origins: Map<string, SourcePos>;
}

export interface RawGroup {
  name: string;
  children: string[];
  hosts: string[];
  layer: VarLayer;
  /** ansible_group_priority (default 1): among groups of equal depth, higher wins. */
  priority: number;
}

export interface RawHost {
  name: string;
  /** Groups listing the host directly, in declaration order. */
  groups: string[];
  layer: VarLayer;
}

export interface RawInventory {
  source: string;
  groups: Map<string, RawGroup>;
  hosts: Map<string, RawHost>;
  warnings: Diagnostic[];
}

export function emptyLayer(): VarLayer {
  return { vars: {}, origins: new Map() };
}

export class InventoryBuilder {
  readonly source: string;
  readonly diagnostics: Diagnostic[] = [];
  private readonly groups = new Map<string, RawGroup>();
  private readonly hosts = new Map<string, RawHost>();
  private readonly parents = new Map<string, Set<string>>();

  constructor(source: string) {
    this.source = source;
    this.addGroup('all');
    this.addGroup('ungrouped');
    this.linkChild('all', 'ungrouped');
  }

  hasGroup(name: string): boolean {
    return this.groups.has(name);
  }

  addGroup(name: string): RawGroup {
    let group = this.groups.get(name);
    if (!group) {
      group = { name, children: [], hosts: [], layer: emptyLayer(), priority: 1 };
      this.groups.set(name, group);
      this.parents.set(name, new Set());
    }
    return group;
  }

  /** Makes `child` a child of `parent`; refuses loops (Ansible: "recursive dependency loop"). */
  addChild(parent: string, child: string, at: SourcePos): void {
    this.addGroup(parent);
    this.addGroup(child);
    if (child === 'all') {
      this.error(at, `group 'all' cannot be a child of '${parent}': every group is already inside 'all'`);
      return;
    }
    const loop = this.pathBetween(child, parent);
    if (loop) {
      this.error(at, `group '${child}' cannot be a child of '${parent}': that makes a cycle (${[...loop, child].join(' -> ')})`);
      return;
    }
    this.linkChild(parent, child);
  }

  addHost(group: string, name: string, port: number | undefined, at: SourcePos): RawHost {
    let host = this.hosts.get(name);
    if (!host) {
      host = { name, groups: [], layer: emptyLayer() };
      this.hosts.set(name, host);
    }
    const g = this.addGroup(group);
    if (!g.hosts.includes(name)) g.hosts.push(name);
    if (!host.groups.includes(group)) host.groups.push(group);
    if (port !== undefined) setVar(host.layer, 'ansible_port', port, at);
    return host;
  }

  setGroupVar(group: string, key: string, value: VarValue, at: SourcePos): void {
    const g = this.addGroup(group);
    if (key === 'ansible_group_priority') {
      // Like Ansible, the priority configures the group and is not a var hosts see.
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : NaN;
      if (!Number.isInteger(n)) {
        this.error(at, `group '${group}': ansible_group_priority must be an integer, got ${JSON.stringify(value)}`);
        return;
      }
      g.priority = n;
      return;
    }
    setVar(g.layer, key, value, at);
  }

  setHostVar(host: string, key: string, value: VarValue, at: SourcePos): void {
    const h = this.hosts.get(host);
    if (!h) throw new Error(`internal: host ${host} set before it was added`);
    setVar(h.layer, key, value, at);
  }

  error(at: SourcePos, message: string): void {
    this.diagnostics.push({ ...at, message, severity: 'error' });
  }

  warn(at: SourcePos, message: string): void {
    this.diagnostics.push({ ...at, message, severity: 'warning' });
  }

  get failed(): boolean {
    return this.diagnostics.some((d) => d.severity === 'error');
  }

  /** Applies Ansible's implicit membership rules and hands the result over. */
  finish(): RawInventory {
    for (const name of this.groups.keys()) {
      if (name !== 'all' && (this.parents.get(name)?.size ?? 0) === 0) this.linkChild('all', name);
    }
    const ungrouped = this.groups.get('ungrouped') as RawGroup;
    for (const host of this.hosts.values()) {
      const real = host.groups.filter((g) => g !== 'all' && g !== 'ungrouped');
      if (real.length > 0) {
        // Listed before any [section] in INI, then in a group: not ungrouped after all.
        if (host.groups.includes('ungrouped')) {
          host.groups = host.groups.filter((g) => g !== 'ungrouped');
          ungrouped.hosts = ungrouped.hosts.filter((h) => h !== host.name);
        }
      } else if (!host.groups.includes('ungrouped')) {
        host.groups.push('ungrouped');
        ungrouped.hosts.push(host.name);
      }
    }
    return {
      source: this.source,
      groups: this.groups,
      hosts: this.hosts,
      warnings: this.diagnostics.filter((d) => d.severity === 'warning'),
    };
  }

  private linkChild(parent: string, child: string): void {
    const p = this.groups.get(parent) as RawGroup;
    if (!p.children.includes(child)) p.children.push(child);
    this.parents.get(child)?.add(parent);
  }

  /** A chain of child links from `from` down to `to`, if there is one (from, …, to). */
  private pathBetween(from: string, to: string, seen = new Set<string>()): string[] | undefined {
    if (from === to) return [from];
    if (seen.has(from)) return undefined;
    seen.add(from);
    for (const child of this.groups.get(from)?.children ?? []) {
      const rest = this.pathBetween(child, to, seen);
      if (rest) return [from, ...rest];
    }
    return undefined;
  }
}

/** Setting a var again replaces it, as in Ansible's default `hash_behaviour = replace`. */
function setVar(layer: VarLayer, key: string, value: VarValue, at: SourcePos): void {
  layer.vars[key] = value;
  layer.origins.set(key, at);
}
