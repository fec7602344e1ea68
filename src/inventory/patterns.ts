// Host selection with Ansible's pattern semantics (ansible/inventory/manager.py): unions first,
// then intersections, then exclusions, whatever order they are written in; a pattern of only
// `&`/`!` terms starts from `all`. A term matching a group selects its hosts and those of its
// child groups; globs and regexes also match host names. Results come back in inventory order.
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { parseHostPattern, splitElements } from './pattern-syntax.js';
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
 * Host names the pattern selects, in inventory order, without duplicates. Throws UsageError for
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
    if (element.startsWith('@')) {
      for (const line of readLimitFile(element.slice(1))) terms.push(...parseHostPattern(line));
    } else {
      terms.push(...termsOf(element));
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

function evaluateTerms(inv: Inventory, terms: readonly PatternTerm[], index: InventoryIndex): string[] {
  const ordered = [
    ...terms.filter((t) => t.op === 'union'),
    ...terms.filter((t) => t.op === 'intersect'),
    ...terms.filter((t) => t.op === 'exclude'),
  ];
  const selected = new Set<string>();
  if (!ordered.some((t) => t.op === 'union')) for (const h of inv.hosts.keys()) selected.add(h);
  for (const term of ordered) {
    if (term.op === 'union') {
      // Ansible short-cuts a plain host name before trying groups with that name.
      if (term.kind === 'name' && !term.subscript && inv.hosts.has(term.expr)) selected.add(term.expr);
      else for (const h of index.match(term)) selected.add(h);
    } else {
      const matched = new Set(index.match(term));
      for (const h of [...selected]) if ((term.op === 'intersect') !== matched.has(h)) selected.delete(h);
    }
  }
  return index.inOrder(selected);
}

class InventoryIndex {
  private readonly inv: Inventory;
  private readonly order = new Map<string, number>();
  private members: Map<string, string[]> | undefined;

  constructor(inv: Inventory) {
    this.inv = inv;
    let i = 0;
    for (const name of inv.hosts.keys()) this.order.set(name, i++);
  }

  inOrder(names: Iterable<string>): string[] {
    return [...names].sort((a, b) => (this.order.get(a) ?? 0) - (this.order.get(b) ?? 0));
  }

  /** The hosts one term matches (before its &/! is applied), subscript included. */
  match(term: PatternTerm): string[] {
    const test = (name: string): boolean => (term.matcher ? term.matcher.test(name) : name === term.expr);
    const found = new Set<string>();
    let groupMatched = false;
    for (const group of this.inv.groups.keys()) {
      if (!test(group)) continue;
      groupMatched = true;
      for (const h of this.membersOf(group)) found.add(h);
    }
    // Host names are tried when no group matched, and always for globs, regexes and dotted names.
    if (!groupMatched || term.kind !== 'name' || term.expr.includes('.')) {
      for (const h of this.inv.hosts.keys()) if (test(h)) found.add(h);
    }
    return applySubscript(this.inOrder(found), term.subscript);
  }

  private membersOf(group: string): string[] {
    if (!this.members) {
      this.members = new Map();
      for (const host of this.inv.hosts.values()) {
        for (const g of host.groups) {
          const list = this.members.get(g);
          if (list) list.push(host.name);
          else this.members.set(g, [host.name]);
        }
      }
    }
    return this.members.get(group) ?? [];
  }
}

/** Ansible's _apply_subscript: [i] one host (negative counts from the end), [a:b] inclusive. */
function applySubscript(hosts: string[], subscript: PatternTerm['subscript']): string[] {
  if (!subscript || hosts.length === 0) return hosts;
  const [start, end] = subscript;
  if (end === undefined || end === 0) {
    const at = start < 0 ? hosts.length + start : start;
    const host = hosts[at];
    return host === undefined ? [] : [host];
  }
  return hosts.slice(start, (end === -1 ? hosts.length - 1 : end) + 1);
}
