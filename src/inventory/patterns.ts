// Host selection with Ansible's pattern semantics (ansible/inventory/manager.py): unions first,
// then intersections, then exclusions, whatever order they are written in; a pattern of only
// `&`/`!` terms starts from `all`. A term matching a group selects its hosts and those of its
// child groups; globs and regexes also match host names. Results come back in Ansible's order
// (a group's own hosts, then its children's), which is also the order `serial` batches follow.
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { LOCALHOST_NAMES, implicitLocalhost } from './localhost.js';
import { parseElement, parseHostPattern, splitElements } from './pattern-syntax.js';
import type { PatternTerm } from './pattern-syntax.js';
import type { Inventory } from './types.js';

export { parseHostPattern, validatePattern } from './pattern-syntax.js';
export type { PatternTerm, TermOp } from './pattern-syntax.js';

/** Parsed patterns, shared by every call (a plan asks for the same few patterns many times). */
const parsed = new Map<string, PatternTerm[]>();
const MAX_CACHED = 1000;

function termsOf(pattern: string): PatternTerm[] {
  let terms = parsed.get(pattern);
  if (!terms) {
    terms = parseHostPattern(pattern);
    if (parsed.size >= MAX_CACHED) parsed.clear();
    parsed.set(pattern, terms);
  }
  return terms;
}

/**
 * Host names the pattern selects, in Ansible's order, without duplicates. Throws UsageError for
 * a malformed pattern; returns [] when it is valid but matches nothing (callers warn).
 */
export function selectHosts(inv: Inventory, pattern: string): string[] {
  const memo = memoFor(inv);
  let hosts = memo.results.get(pattern);
  if (!hosts) {
    hosts = evaluateTerms(inv, termsOf(pattern), memo.index);
    if (memo.results.size >= MAX_CACHED) memo.results.clear();
    memo.results.set(pattern, hosts);
  }
  return [...hosts];
}

/** A group's hosts in Ansible's order (Group.get_hosts): its own, then its children's. */
export function groupHostsInOrder(inv: Inventory, group: string): string[] {
  return [...memoFor(inv).index.hostsOf(group)];
}

/**
 * Conditions ask for the same patterns once per host and step (hosts('dc_1').all(...)), so each
 * inventory keeps its index and answers. An inventory is not meant to change after loading; if a
 * caller adds hosts or groups anyway, the memo notices and starts over.
 */
interface Memo {
  hostCount: number;
  groupCount: number;
  index: InventoryIndex;
  results: Map<string, string[]>;
}
const memos = new WeakMap<Inventory, Memo>();

function memoFor(inv: Inventory): Memo {
  let memo = memos.get(inv);
  if (!memo || memo.hostCount !== inv.hosts.size || memo.groupCount !== inv.groups.size) {
    memo = { hostCount: inv.hosts.size, groupCount: inv.groups.size, index: new InventoryIndex(inv), results: new Map() };
    memos.set(inv, memo);
  }
  return memo;
}

/**
 * `--limit`: the hosts of `hosts` that `limit` selects, in the order given. Like Ansible, an
 * element `@FILE` stands for the host names listed in FILE, one per line.
 */
export function limitHosts(inv: Inventory, hosts: readonly string[], limit: string | undefined): string[] {
  if (limit === undefined || limit.trim() === '') return [...hosts];
  const fail = (why: string): never => {
    throw new UsageError(`invalid --limit '${limit}': ${why}`);
  };
  const terms: PatternTerm[] = [];
  for (const element of splitElements(limit, fail)) {
    // Ansible's subset(): each line of an @FILE is one element, taken as it is.
    const elements = element.startsWith('@') ? readLimitFile(element.slice(1)) : [element];
    for (const e of elements) {
      terms.push(
        parseElement(e, (why) => {
          throw new UsageError(`invalid host pattern '${e}' in --limit: ${why}`);
        }),
      );
    }
  }
  const allowed = new Set(evaluateTerms(inv, terms, memoFor(inv).index));
  return hosts.filter((h) => allowed.has(h));
}

function readLimitFile(path: string): string[] {
  try {
    return readFileSync(path, 'utf8')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
  } catch (err) {
    throw new UsageError(`cannot read the --limit file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Ansible's order_patterns then _evaluate_patterns: unions, then &, then !; only &/! start from all. */
function evaluateTerms(inv: Inventory, terms: readonly PatternTerm[], index: InventoryIndex): string[] {
  const ordered = [...terms.filter((t) => t.op === 'union'), ...terms.filter((t) => t.op === 'intersect'), ...terms.filter((t) => t.op === 'exclude')];
  if (!ordered.some((t) => t.op === 'union')) ordered.unshift(ALL_TERM);
  let hosts: string[] = [];
  for (const term of ordered) {
    // Ansible short-cuts an element that is a plain host name before trying it as a pattern.
    if (index.isHost(term.text)) {
      hosts.push(term.text);
      continue;
    }
    const matched = index.match(term);
    if (term.op === 'union') {
      const existing = new Set(hosts);
      for (const h of matched) if (!existing.has(h)) hosts.push(h);
    } else {
      const that = new Set(matched);
      hosts = hosts.filter((h) => that.has(h) === (term.op === 'intersect'));
    }
  }
  return [...new Set(hosts)];
}

const ALL_TERM: PatternTerm = parseHostPattern('all')[0] as PatternTerm;

class InventoryIndex {
  private readonly inv: Inventory;
  private readonly groupHosts = new Map<string, string[]>();

  constructor(inv: Inventory) {
    this.inv = inv;
  }

  /** A host of the inventory (the implicit localhost is in no group and matches no pattern). */
  isHost(name: string): boolean {
    const host = this.inv.hosts.get(name);
    return host !== undefined && host.implicit !== true;
  }

  /**
   * Ansible's _match_one_pattern: the hosts of every matching group (in the inventory's group
   * order), then, for globs, regexes, dotted names or no matching group, the matching hosts; then
   * the subscript. Duplicates stay until the end, as in Ansible, so subscripts count them.
   */
  match(term: PatternTerm): string[] {
    const found: string[] = [];
    let groupMatched = false;
    for (const group of this.inv.groups.keys()) {
      if (!term.matcher.test(group)) continue;
      groupMatched = true;
      found.push(...this.hostsOf(group));
    }
    if (!groupMatched || term.kind === 'regex' || /[.?*[]/.test(term.expr)) {
      for (const h of this.inv.hosts.values()) if (h.implicit !== true && term.matcher.test(h.name)) found.push(h.name);
    }
    if (found.length === 0 && term.kind !== 'regex' && LOCALHOST_NAMES.has(term.expr)) {
      found.push(implicitLocalhost(this.inv, term.expr).name);
    }
    return applySubscript(found, term);
  }

  /**
   * Ansible's Group.get_hosts: the group's own hosts, then those of its children in the order
   * listed, then of their children level by level. (Ansible walks grandchildren in Python set
   * order, which depends on the hash seed; remedy takes them in the order they were listed.)
   */
  hostsOf(group: string): string[] {
    let hosts = this.groupHosts.get(group);
    if (hosts) return hosts;
    const order: string[] = [group];
    const seen = new Set<string>([group]);
    const childrenOf = (g: string): string[] => this.inv.groups.get(g)?.children ?? [];
    for (const child of childrenOf(group)) if (!seen.has(child)) (seen.add(child), order.push(child));
    let level = childrenOf(group);
    while (level.length > 0) {
      const next: string[] = [];
      for (const g of level) {
        for (const child of childrenOf(g)) {
          if (seen.has(child)) continue;
          seen.add(child);
          order.push(child);
          next.push(child);
        }
      }
      level = next;
    }
    const out = new Set<string>();
    for (const g of order) for (const h of this.inv.groups.get(g)?.hosts ?? []) out.add(h);
    hosts = [...out];
    this.groupHosts.set(group, hosts);
    return hosts;
  }
}

/** Ansible's _apply_subscript: [i] one host (negative counts from the end), [a:b] inclusive. */
function applySubscript(hosts: string[], term: PatternTerm): string[] {
  // Past the end selects nothing (ansible-core 2.14 answers an empty host list).
  const subscript = term.subscript;
  if (!subscript) return hosts;
  const [start, end] = subscript;
  if (end === undefined) {
    const host = hosts[start < 0 ? hosts.length + start : start];
    return host === undefined ? [] : [host];
  }
  return pySlice(hosts, start, end === -1 ? hosts.length : end + 1);
}

/** Python's list[a:b] for a >= 0. */
function pySlice<T>(list: T[], start: number, stop: number): T[] {
  return list.slice(start, Math.max(start, stop));
}
