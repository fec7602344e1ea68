// The inventory as `ansible-inventory` shows it: --list (groups with their direct hosts and
// children, merged vars per host under _meta.hostvars), --graph, --host and the host list of a
// pattern. `remedy inventory` prints these, and the corpus test compares them with Ansible's own
// answers, so the shapes and orders here are Ansible's (ansible/cli/inventory.py).
import { UsageError } from '../errors.js';
import { selectHosts } from './patterns.js';
import type { Group, Inventory, VarValue, Vars } from './types.js';

export interface AnsibleGroupView {
  hosts?: string[];
  children?: string[];
}

export type AnsibleListView = Record<string, AnsibleGroupView> & { _meta: { hostvars: Record<string, Vars> } };

/** `ansible-inventory --list`: empty groups and keys left out, `all` without its hosts. */
export function inventoryList(inv: Inventory): AnsibleListView {
  const available = new Set(selectHosts(inv, 'all'));
  const out: Record<string, AnsibleGroupView> = {};
  const seen = new Set<string>();
  const format = (group: Group): void => {
    const view: AnsibleGroupView = {};
    if (group.name !== 'all') {
      const hosts = group.hosts.filter((h) => available.has(h));
      if (hosts.length > 0) view.hosts = hosts;
    }
    if (group.children.length > 0) view.children = [...group.children];
    if (view.hosts || view.children) out[group.name] = view;
    for (const child of group.children) {
      if (seen.has(child)) continue;
      seen.add(child);
      const g = inv.groups.get(child);
      if (g) format(g);
    }
  };
  const all = inv.groups.get('all');
  if (all) format(all);
  const hostvars: Record<string, Vars> = {};
  for (const name of available) {
    const vars = inv.hosts.get(name)?.vars ?? {};
    if (Object.keys(vars).length > 0) hostvars[name] = vars;
  }
  return Object.assign(out, { _meta: { hostvars } });
}

/** `ansible-inventory --graph [GROUP]`: every group, empty ones too; hosts under their own groups. */
export function inventoryGraph(inv: Inventory, root = 'all'): string {
  const top = inv.groups.get(root);
  if (!top) throw new UsageError(`no group named '${root}' in ${inv.source}`);
  const lines: string[] = [];
  const name = (text: string, depth: number): string => (depth === 0 ? text : `${'  |'.repeat(depth)}--${text}`);
  const walk = (group: Group, depth: number): void => {
    lines.push(name(`@${group.name}:`, depth));
    for (const child of group.children) {
      const g = inv.groups.get(child);
      if (g) walk(g, depth + 1);
    }
    if (group.name !== 'all') for (const h of group.hosts) lines.push(name(h, depth + 1));
  };
  walk(top, 0);
  return `${lines.join('\n')}\n`;
}

/** `ansible-inventory --host H`: the host's merged vars. */
export function inventoryHostVars(inv: Inventory, name: string): Vars {
  const host = inv.hosts.get(name);
  if (!host || host.implicit === true) throw new UsageError(`no host named '${name}' in ${inv.source}`);
  return host.vars;
}

/** Ansible's group_names: every group of the host but `all`, sorted. */
export function groupNames(inv: Inventory, name: string): string[] {
  return (inv.hosts.get(name)?.groups ?? []).filter((g) => g !== 'all').sort();
}

/**
 * JSON as Python's json.dumps(sort_keys=True, indent=4, ensure_ascii=False) writes it, which is
 * what ansible-inventory prints: Infinity and NaN included, as Python spells them.
 */
export function pythonJson(value: VarValue | Record<string, unknown> | unknown, indent = 4): string {
  const pad = (depth: number): string => ' '.repeat(indent * depth);
  const write = (v: unknown, depth: number): string => {
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : JSON.stringify(v);
    if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return `[\n${v.map((x) => pad(depth + 1) + write(x, depth + 1)).join(',\n')}\n${pad(depth)}]`;
    }
    const keys = Object.keys(v as object).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (keys.length === 0) return '{}';
    const obj = v as Record<string, unknown>;
    return `{\n${keys.map((k) => `${pad(depth + 1)}${JSON.stringify(k)}: ${write(obj[k], depth + 1)}`).join(',\n')}\n${pad(depth)}}`;
  };
  return write(value, 0);
}
