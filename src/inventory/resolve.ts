// From what the file declares to the Inventory model: group membership through parents, vars
// merged with Ansible's precedence, and each host's connection and become settings.
//
// Precedence, lowest first, as Ansible's VariableManager applies it by default:
//   1. vars of `all` in the inventory file
//   2. vars of the host's other groups in the inventory file, sorted by (depth, priority, name):
//      a child group beats its parent; at equal depth a higher ansible_group_priority wins, then
//      the alphabetically later name
//   3. group_vars/all          4. group_vars/<group>, sorted the same way
//   5. the host's vars in the inventory file          6. host_vars/<host>
import { ValidationError } from '../errors.js';
import type { Diagnostic, SourcePos } from '../errors.js';
import type { RawGroup, RawInventory, VarLayer } from './builder.js';
import { hostAccess } from './connection.js';
import type { ConnectionIssue } from './connection.js';
import { registerHosts } from './host-templates.js';
import { LOCALHOST_NAMES } from './localhost.js';
import type { Group, Host, Inventory, Vars } from './types.js';
import type { DirectoryVars } from './vars-dirs.js';

export function resolveInventory(raw: RawInventory, dirs: DirectoryVars): Inventory {
  const parents = parentsOf(raw);
  const depth = depthsOf(raw, parents);
  const ancestors = new Map<string, Set<string>>();
  const ancestorsOf = (group: string): Set<string> => {
    let found = ancestors.get(group);
    if (!found) {
      found = new Set([group]);
      for (const p of parents.get(group) ?? []) for (const a of ancestorsOf(p)) found.add(a);
      ancestors.set(group, found);
    }
    return found;
  };
  const byPrecedence = (a: RawGroup, b: RawGroup): number =>
    (depth.get(a.name) ?? 0) - (depth.get(b.name) ?? 0) || a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

  const hosts = new Map<string, Host>();
  const problems: { host: string; issue: ConnectionIssue; at: SourcePos | undefined }[] = [];
  for (const rawHost of raw.hosts.values()) {
    const member = new Set<string>(['all']);
    for (const g of rawHost.groups) for (const a of ancestorsOf(g)) member.add(a);
    const ordered = [...member]
      .filter((g) => g !== 'all')
      .map((g) => raw.groups.get(g) as RawGroup)
      .sort(byPrecedence);

    const layers: (VarLayer | undefined)[] = [
      raw.groups.get('all')?.layer,
      ...ordered.map((g) => g.layer),
      dirs.groups.get('all'),
      ...ordered.map((g) => dirs.groups.get(g.name)),
      rawHost.layer,
      dirs.hosts.get(rawHost.name),
    ];
    const merged = mergeLayers(layers);
    const access = hostAccess(rawHost.name, merged.vars, [...member]);
    for (const issue of access.issues) problems.push({ host: rawHost.name, issue, at: merged.origins.get(issue.key) });
    hosts.set(rawHost.name, {
      name: rawHost.name,
      groups: [...member].sort(),
      vars: merged.vars,
      connection: access.connection,
      become: access.become,
    });
  }

  // A setting remedy cannot honour (winrm, a lookup in ansible_user …) makes the host unusable, not
  // the inventory: Ansible loads it too, and only a step that targets the host is refused.
  const diagnostics = groupProblems(raw.source, problems).map((d) =>
    d.severity === 'error' ? { ...d, message: `${d.message} (refused only if a step targets it)`, severity: 'warning' as const } : d,
  );
  for (const p of problems) {
    if (p.issue.severity !== 'error') continue;
    const host = hosts.get(p.host) as Host;
    (host.unusable ??= []).push({ key: p.issue.key, message: p.issue.message, at: p.at ?? { file: raw.source, line: 1, col: 1 } });
  }

  const groups = new Map<string, Group>();
  for (const g of raw.groups.values()) {
    groups.set(g.name, {
      name: g.name,
      children: [...g.children],
      hosts: [...g.hosts],
      vars: mergeLayers([g.layer, dirs.groups.get(g.name)]).vars,
    });
  }
  const allVars = mergeLayers([raw.groups.get('all')?.layer, dirs.groups.get('all')]).vars;
  const localhostVars: Record<string, Vars> = {};
  for (const name of LOCALHOST_NAMES) {
    const layer = dirs.hosts.get(name);
    if (layer && !hosts.has(name)) localhostVars[name] = layer.vars;
  }
  const warnings = [...raw.warnings, ...dirs.warnings, ...diagnostics];
  if (hosts.size === 0) {
    warnings.push({
      file: raw.source,
      line: 1,
      col: 1,
      message: "provided hosts list is empty, only localhost is available. Note that the implicit localhost does not match 'all'",
      severity: 'warning',
    });
  }
  const inv: Inventory = { source: raw.source, hosts, groups, warnings, implicitVars: { all: allVars, hosts: localhostVars } };
  registerHosts(inv);
  return inv;
}

/**
 * Refuses a run that targets hosts remedy cannot reach as the inventory says (ansible_connection
 * winrm, a templated ansible_user remedy cannot render …): one error per setting, at the line
 * that set it, naming the hosts and the var. Hosts no step targets never get here.
 */
export function refuseUnusableHosts(inv: Inventory, targeted: Iterable<string>): void {
  const problems: { host: string; issue: ConnectionIssue; at: SourcePos | undefined }[] = [];
  for (const name of targeted) {
    for (const u of inv.hosts.get(name)?.unusable ?? []) problems.push({ host: name, issue: { key: u.key, message: u.message, severity: 'error' }, at: u.at });
  }
  if (problems.length > 0) throw new ValidationError(groupProblems(inv.source, problems));
}

function mergeLayers(layers: (VarLayer | undefined)[]): VarLayer {
  const out: VarLayer = { vars: {}, origins: new Map() };
  for (const layer of layers) {
    if (!layer) continue;
    Object.assign(out.vars, layer.vars);
    for (const [k, at] of layer.origins) out.origins.set(k, at);
  }
  return out;
}

function parentsOf(raw: RawInventory): Map<string, string[]> {
  const parents = new Map<string, string[]>();
  for (const g of raw.groups.values()) {
    for (const child of g.children) parents.set(child, [...(parents.get(child) ?? []), g.name]);
  }
  return parents;
}

/** Longest path from `all` (Ansible's Group.depth): all is 0, its children 1, and so on. */
function depthsOf(raw: RawInventory, parents: Map<string, string[]>): Map<string, number> {
  const depth = new Map<string, number>();
  const of = (name: string): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    const ps = parents.get(name) ?? [];
    const d = ps.length === 0 ? 0 : Math.max(...ps.map(of)) + 1;
    depth.set(name, d);
    return d;
  };
  for (const name of raw.groups.keys()) of(name);
  return depth;
}

/**
 * One diagnostic per bad setting rather than per host: a wrong become method in [all:vars] is
 * one mistake, reported once at its line with the hosts it affects.
 */
function groupProblems(source: string, problems: { host: string; issue: ConnectionIssue; at: SourcePos | undefined }[]): Diagnostic[] {
  const byPlace = new Map<string, { at: SourcePos; issue: ConnectionIssue; hosts: string[] }>();
  for (const p of problems) {
    const at = p.at ?? { file: source, line: 1, col: 1 };
    const id = `${at.file}:${at.line}:${at.col}:${p.issue.message}`;
    const entry = byPlace.get(id);
    if (entry) entry.hosts.push(p.host);
    else byPlace.set(id, { at, issue: p.issue, hosts: [p.host] });
  }
  return [...byPlace.values()].map(({ at, issue, hosts }) => ({
    ...at,
    message: `${hostList(hosts)}: ${issue.message}`,
    severity: issue.severity,
  }));
}

function hostList(hosts: string[]): string {
  const label = hosts.length === 1 ? 'host' : 'hosts';
  if (hosts.length <= 3) return `${label} ${hosts.join(', ')}`;
  return `${label} ${hosts.slice(0, 3).join(', ')} and ${hosts.length - 3} more`;
}
