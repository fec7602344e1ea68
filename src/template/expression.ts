// Conditions in CEL (@marcbachmann/cel-js): a sandboxed, non-Turing-complete language, parsed
// once and cached. Nothing in a runbook is ever run through eval or new Function.
//
// What a condition sees:
//   facts   the host's facts (per-host conditions; {} without a host)
//   host    {name, groups, vars} of that host ({} without a host)
//   params  resolved params;  vars  runbook vars
//   cause   the cause concluded by the last decide step, "" before any decision
//   result  {exit_code, stdout, stderr} of the check being retried (until: only)
//   hosts("pattern")  the hosts a pattern selects, each {name, groups, vars, facts, status}
//   steps   what each step did so far: steps.verify.status ("ok", "failed", "skipped",
//           "partial", "not-run") and host lists steps.x.ok/changed/skipped/failed/unreachable
//
// Numbers: JS integers become CEL ints (BigInt), other numbers doubles. Comparisons across int
// and double work (`facts.load > 1`); arithmetic mixing them needs double()/int().
// A missing fact is an error (CEL has no undefined): guard with has(facts.x), or filter
// `h.status == "ok"` in fleet conditions. Errors never silently become true or false.
import { Environment, type ASTNode, type Context, type ParseResult } from '@marcbachmann/cel-js';
import { RemedyError } from '../errors.js';
import { collectRefs, type ExpressionRefsDetail } from './expression-refs.js';

export interface HostView {
  name: string;
  groups: string[];
  vars: Record<string, unknown>;
  facts: Record<string, unknown>;
  status: 'ok' | 'failed' | 'unreachable' | 'skipped' | 'pending';
}

export interface ExpressionContext {
  /** Present for per-host conditions. */
  host?: HostView;
  params: Record<string, unknown>;
  vars: Record<string, unknown>;
  /** The concluded cause, or null before any decide step (seen by CEL as ""). */
  cause: string | null;
  /** The check being retried, for `until:`. */
  result?: { exit_code: number | null; stdout: string; stderr: string };
  /** Backs hosts('pattern'). */
  selectHosts: (pattern: string) => HostView[];
  /** What each step did so far (engine/ledger.ts), by qualified id and by id within the step's own runbook. */
  steps?: Record<string, unknown> | undefined;
  /**
   * The run-time values (facts, host, result, steps) are not known (plan/step-graph.ts): reading
   * one is an error, even through has(), so only what params and the cause decide is decided.
   */
  runtimeUnknown?: boolean | undefined;
}

export interface ExpressionRefs {
  /** Fact names read, on the host (`facts.x`) or across hosts (`h.facts.x`). */
  facts: string[];
  /** Literal patterns passed to hosts(). */
  patterns: string[];
  usesCause: boolean;
  usesHost: boolean;
  usesResult: boolean;
  /** Param and var names read (`params.x`, `vars.y`). */
  params: string[];
  vars: string[];
}

/** An expression that cannot be evaluated, or a condition that did not yield a bool. */
export class ExpressionError extends RemedyError {}

let active: ExpressionContext | undefined;

const env = new Environment({
  unlistedVariablesAreDyn: false,
  homogeneousAggregateLiterals: false,
  limits: { maxAstNodes: 5_000, maxDepth: 64, maxListElements: 1_000, maxMapEntries: 1_000, maxCallArguments: 16 },
})
  .registerVariable('facts', 'map', { description: "The host's facts" })
  .registerVariable('host', 'map', { description: 'The host: name, groups, vars' })
  .registerVariable('params', 'map')
  .registerVariable('vars', 'map')
  .registerVariable('cause', 'string', { description: 'The cause a decide step concluded, "" before' })
  .registerVariable('result', 'map', { description: 'The retried check: exit_code, stdout, stderr' })
  .registerVariable('steps', 'map', { description: 'What each step did so far: status and hosts per status' })
  .registerFunction('hosts(string): list<map>', (pattern: string) => {
    if (!active) throw new Error('hosts() is only available while a condition is evaluated');
    return active.selectHosts(pattern).map(hostToCel);
  });

const parsed = new Map<string, ParseResult>();
const CACHE_LIMIT = 10_000;

function parseCached(text: string): ParseResult {
  let p = parsed.get(text);
  if (!p) {
    p = env.parse(text);
    if (parsed.size >= CACHE_LIMIT) parsed.clear();
    parsed.set(text, p);
  }
  return p;
}

/** JS → CEL: integers become BigInt, objects plain maps. */
export function toCel(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.map(toCel);
  if (value instanceof Map) return toCel(Object.fromEntries(value));
  if (typeof value === 'object' && value !== null && !(value instanceof Date) && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toCel(v);
    return out;
  }
  return value;
}

/**
 * toCel of a value that is never changed once made (params, a level's rendered vars, inventory
 * vars): converted once per object. Facts, results and step views change, and are converted
 * each time they are read.
 */
const settled = new WeakMap<object, unknown>();
function settledToCel(value: Record<string, unknown>): unknown {
  let cel = settled.get(value);
  if (cel === undefined) settled.set(value, (cel = toCel(value)));
  return cel;
}

/** CEL → JS: BigInt back to number, maps to objects. */
export function fromCel(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(fromCel);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), fromCel(v)]));
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromCel(v)]));
  }
  return value;
}

function hostToCel(h: HostView): unknown {
  const out: Record<string, unknown> = { name: h.name, groups: h.groups, status: h.status };
  lazy(out, 'vars', () => settledToCel(h.vars));
  lazy(out, 'facts', () => toCel(h.facts));
  return out;
}

/**
 * Defines `key` on `target` as converted when first read. CEL reads a variable or field with
 * hasOwn + a property read, so a getter is invisible to it; a condition on 500 hosts that reads
 * `facts.x` no longer converts every host's inventory vars, params and step views first.
 */
function lazy(target: Record<string, unknown>, key: string, convert: () => unknown): void {
  let done = false;
  let value: unknown;
  Object.defineProperty(target, key, {
    enumerable: true,
    configurable: true,
    get: () => {
      if (!done) {
        value = convert();
        done = true;
      }
      return value;
    },
  });
}

/** toCel of an object whose values are themselves computed when read (`steps`: engine/ledger.ts). */
function lazyCelFields(source: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(source)) lazy(out, key, () => toCel(source[key]));
  return out;
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? text).trim();
}

/** Parses and type-checks; on success, what the expression reads. */
export function checkExpression(text: string): { ok: true; refs: ExpressionRefs; type: string } | { ok: false; message: string; offset: number } {
  const detail = inspectExpression(text);
  if (!detail.ok) return detail;
  const r = detail.refs;
  const names = (xs: { name: string }[]): string[] => [...new Set(xs.map((x) => x.name))];
  return {
    ok: true,
    type: detail.type,
    refs: {
      facts: names([...r.hostFacts, ...r.fleetFacts]),
      patterns: names(r.patterns),
      usesCause: r.usesCause,
      usesHost: r.usesHost,
      usesResult: r.usesResult,
      params: names(r.params),
      vars: names(r.vars),
    },
  };
}

type Inspected = { ok: true; refs: ExpressionRefsDetail; type: string; ast: ASTNode } | { ok: false; message: string; offset: number };
const inspected = new Map<string, Inspected>();

/**
 * Like checkExpression, with offsets of every reference (for positioned diagnostics). Cached by
 * text (the result depends on nothing else): the planner asks it of every `when` of every step
 * for every plan, and type-checking re-parses. Callers only read the result.
 */
export function inspectExpression(text: string): Inspected {
  let result = inspected.get(text);
  if (!result) {
    result = inspectUncached(text);
    if (inspected.size >= CACHE_LIMIT) inspected.clear();
    inspected.set(text, result);
  }
  return result;
}

function inspectUncached(text: string): Inspected {
  let ast: ASTNode;
  try {
    ast = parseCached(text).ast;
  } catch (err) {
    const e = err as { message?: string; range?: { start: number } };
    return { ok: false, message: firstLine(e.message ?? String(err)), offset: e.range?.start ?? 0 };
  }
  const checked = env.check(text);
  if (!checked.valid) {
    const e = checked.error;
    return { ok: false, message: firstLine(e?.message ?? 'invalid expression'), offset: e?.range?.start ?? 0 };
  }
  return { ok: true, refs: collectRefs(ast), type: checked.type ?? 'dyn', ast };
}

function celContext(ctx: ExpressionContext): Context {
  if (ctx.runtimeUnknown)
    return { facts: null, host: null, params: toCel(ctx.params), vars: toCel(ctx.vars), cause: ctx.cause ?? '', result: null, steps: null };
  return new CelRoots(ctx);
}

/**
 * The variables of one evaluation, each converted only when the expression reads it (most read
 * one or two): CEL reads a variable as a plain property, so prototype getters serve.
 */
class CelRoots {
  readonly #ctx: ExpressionContext;
  #facts: unknown;
  #host: unknown;
  #params: unknown;
  #vars: unknown;
  #result: unknown;
  #steps: unknown;
  readonly cause: string;

  constructor(ctx: ExpressionContext) {
    this.#ctx = ctx;
    this.cause = ctx.cause ?? '';
  }
  get facts(): unknown {
    return (this.#facts ??= toCel(this.#ctx.host?.facts ?? {}));
  }
  get host(): unknown {
    const h = this.#ctx.host;
    return (this.#host ??= h ? { name: h.name, groups: h.groups, vars: settledToCel(h.vars) } : {});
  }
  get params(): unknown {
    return (this.#params ??= settledToCel(this.#ctx.params));
  }
  get vars(): unknown {
    return (this.#vars ??= settledToCel(this.#ctx.vars));
  }
  get result(): unknown {
    return (this.#result ??= this.#ctx.result ? toCel(this.#ctx.result) : {});
  }
  get steps(): unknown {
    return (this.#steps ??= this.#ctx.steps ? lazyCelFields(this.#ctx.steps) : {});
  }
}

function explain(text: string, err: unknown, ctx: ExpressionContext): string {
  const msg = firstLine(err instanceof Error ? err.message : String(err));
  const where = ctx.host ? ` on ${ctx.host.name}` : '';
  const missing = /^No such key: (\S+)/.exec(msg);
  const hint = missing ? ` (a fact or key that is not set; guard with has(...), or filter on h.status == "ok")` : '';
  return `condition \`${text}\`${where}: ${msg}${hint}`;
}

/** Evaluates an expression; the result is converted back to JS (ints as numbers). */
export function evaluateExpression(text: string, ctx: ExpressionContext): unknown {
  let compiled: ParseResult;
  try {
    compiled = parseCached(text);
  } catch (err) {
    throw new ExpressionError(explain(text, err, ctx));
  }
  const previous = active;
  active = ctx;
  try {
    return fromCel(compiled(celContext(ctx)));
  } catch (err) {
    throw new ExpressionError(explain(text, err, ctx));
  } finally {
    active = previous;
  }
}

function celTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'double';
  if (typeof value === 'object') return 'map';
  return typeof value;
}

/** Must be a bool; otherwise throws ExpressionError naming the expression and the type it got. */
export function evaluateCondition(text: string, ctx: ExpressionContext): boolean {
  const value = evaluateExpression(text, ctx);
  if (typeof value !== 'boolean') {
    throw new ExpressionError(`condition \`${text}\` must be a bool, got ${celTypeName(value)}${ctx.host ? ` on ${ctx.host.name}` : ''}`);
  }
  return value;
}

export { describeExpression } from './expression-describe.js';
