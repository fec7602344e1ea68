// A CEL condition in words, for plans and change tickets: `cause == "x" && !facts.up` reads
// 'cause is "x" and not facts.up'. Best effort: anything unusual is shown as written.
import { parse, type ASTNode } from '@marcbachmann/cel-js';

const PRECEDENCE: Record<string, number> = { '?:': 1, '||': 2, '&&': 3, '!_': 5, '-_': 7 };
const COMPARISON = new Set(['==', '!=', '<', '<=', '>', '>=', 'in']);
const ARITHMETIC = new Set(['+', '-', '*', '/', '%']);

function precedence(node: ASTNode): number {
  if (COMPARISON.has(node.op)) return 4;
  if (node.op === '+' || node.op === '-') return 5;
  if (ARITHMETIC.has(node.op)) return 6;
  return PRECEDENCE[node.op] ?? 9;
}

const QUANTIFIERS: Record<string, string> = { all: 'every host in', exists: 'some host in', exists_one: 'exactly one host in' };
const COUNT_WORDS: Record<string, string> = { '>=': 'at least', '>': 'more than', '==': 'exactly', '<': 'fewer than', '<=': 'at most', '!=': 'not exactly' };

class Describer {
  /** Macro variables (the `h` of `.all(h, …)`): `h.facts.x` reads as `facts.x`. */
  private readonly bound = new Set<string>();

  text(node: ASTNode): string {
    return node.input.slice(node.start, node.end);
  }

  private wrap(child: ASTNode, parentPrec: number): string {
    const s = this.describe(child);
    return precedence(child) < parentPrec ? `(${s})` : s;
  }

  /** `hosts('p')` as "p", or null when the node is not a literal hosts() call. */
  private hostsPattern(node: ASTNode): string | null {
    if (node.op === 'call' && node.args[0] === 'hosts' && node.args[1].length === 1) {
      const arg = node.args[1][0];
      if (arg?.op === 'value' && typeof arg.args === 'string') return arg.args;
      return arg ? this.describe(arg) : null;
    }
    return null;
  }

  /** "hosts in p where …" for hosts(p) and hosts(p).filter(h, …); null otherwise. */
  private hostSet(node: ASTNode): string | null {
    const direct = this.hostsPattern(node);
    if (direct !== null) return `hosts in ${direct}`;
    if (node.op === 'rcall' && node.args[0] === 'filter') {
      const pattern = this.hostsPattern(node.args[1]);
      const [variable, body] = node.args[2];
      if (pattern !== null && variable?.op === 'id' && body) return `hosts in ${pattern} where ${this.inScope(variable.args, body)}`;
    }
    return null;
  }

  private inScope(variable: string, body: ASTNode): string {
    const had = this.bound.has(variable);
    this.bound.add(variable);
    try {
      return this.describe(body);
    } finally {
      if (!had) this.bound.delete(variable);
    }
  }

  /** The number of hosts in a set: `hosts(p).filter(…).size()` or `size(hosts(p))`. */
  private hostCount(node: ASTNode): string | null {
    if (node.op === 'rcall' && node.args[0] === 'size' && node.args[2].length === 0) return this.hostSet(node.args[1]);
    if (node.op === 'call' && node.args[0] === 'size' && node.args[1].length === 1 && node.args[1][0]) return this.hostSet(node.args[1][0]);
    return null;
  }

  describe(node: ASTNode): string {
    switch (node.op) {
      case 'value':
        if (typeof node.args === 'string') return JSON.stringify(node.args);
        if (node.args === null) return 'null';
        if (typeof node.args === 'bigint' || typeof node.args === 'number' || typeof node.args === 'boolean') return String(node.args);
        return this.text(node);
      case 'id':
        return node.args;
      case '.':
      case '.?': {
        const [obj, field] = node.args;
        if (obj.op === 'id' && this.bound.has(obj.args)) return field;
        return `${this.wrap(obj, 9)}.${field}`;
      }
      case '[]':
      case '[?]':
        return `${this.wrap(node.args[0], 9)}[${this.describe(node.args[1])}]`;
      case '&&':
        return `${this.wrap(node.args[0], 3)} and ${this.wrap(node.args[1], 3)}`;
      case '||':
        return `${this.wrap(node.args[0], 2)} or ${this.wrap(node.args[1], 2)}`;
      case '!_':
        return `not ${this.wrap(node.args, 5)}`;
      case '-_':
        return `-${this.wrap(node.args, 7)}`;
      case '?:':
        return `(if ${this.describe(node.args[0])} then ${this.describe(node.args[1])} else ${this.describe(node.args[2])})`;
      case 'list':
        return `[${node.args.map((a) => this.describe(a)).join(', ')}]`;
      case 'call': {
        const [name, args] = node.args;
        if (name === 'has' && args.length === 1 && args[0]) return `${this.wrap(args[0], 9)} is set`;
        const count = this.hostCount(node);
        if (count !== null) return `the number of ${count}`;
        const pattern = this.hostsPattern(node);
        if (pattern !== null) return `hosts in ${pattern}`;
        return this.text(node);
      }
      case 'rcall': {
        const [name, receiver, args] = node.args;
        const quantifier = QUANTIFIERS[name];
        const pattern = this.hostsPattern(receiver);
        const [variable, body] = args;
        if (quantifier && pattern !== null && variable?.op === 'id' && body) {
          return `${quantifier} ${pattern}: ${this.inScope(variable.args, body)}`;
        }
        const count = this.hostCount(node);
        if (count !== null) return `the number of ${count}`;
        const set = this.hostSet(node);
        if (set !== null) return set;
        return this.text(node);
      }
      case 'map':
        return this.text(node);
      default: {
        const [left, right] = node.args;
        const count = this.hostCount(left);
        if (count !== null && COUNT_WORDS[node.op] && right.op === 'value') return `${COUNT_WORDS[node.op]} ${this.describe(right)} ${count}`;
        const p = precedence(node);
        const op = node.op === '==' ? 'is' : node.op === '!=' ? 'is not' : node.op;
        return `${this.wrap(left, p)} ${op} ${this.wrap(right, p + 1)}`;
      }
    }
  }
}

const cache = new Map<string, string>();

/** The condition in words for plans; falls back to the text when it cannot be read. */
export function describeExpression(text: string): string {
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  let words: string;
  try {
    words = new Describer().describe(parse(text).ast);
  } catch {
    words = text.trim();
  }
  if (cache.size > 10_000) cache.clear();
  cache.set(text, words);
  return words;
}
