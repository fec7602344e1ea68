// Two LiquidJS engines, one for shell commands (every output quoted) and one for plain text, plus
// a cache of parsed templates and a fast path for the common `{{ a.b }}` shape: the planner
// renders every step for every host, and the fast path prints exactly what LiquidJS would.
import { Liquid, LiquidError, type Template } from 'liquidjs';
import { durationMs, isDuration } from '../duration.js';
import { RemedyError, EXIT } from '../errors.js';
import { escapeFor, type ShellContext, ShellParseError, SLOT_PATTERN, slotContexts, slotWord, UnsafeContextError } from '../shell/context.js';
import { DeferredValue, shellWords, valueText, withDeferred } from './values.js';

/**
 * Values of the command being rendered. Each {{ value }} renders as a placeholder word first;
 * once the whole command is known, each is escaped for the shell context it landed in.
 * Rendering is synchronous, so one list serves every render.
 */
let slots: unknown[] = [];
function slotFor(value: unknown): string {
  slots.push(value);
  return slotWord(slots.length - 1);
}

/** Replaces the placeholder words of a rendered command by their values, escaped for their context. */
function placeSlots(skeleton: string, values: readonly unknown[]): string {
  if (values.length === 0) return skeleton;
  let contexts;
  try {
    contexts = slotContexts(skeleton, values.length);
  } catch (err) {
    if (err instanceof ShellParseError) {
      throw new TemplateError(`the command does not parse as shell, so its values cannot be quoted safely: ${err.message}`);
    }
    throw err;
  }
  return skeleton.replace(SLOT_PATTERN, (_m, n: string) => placeOne(contexts[Number(n)], values[Number(n)], Number(n)));
}

/** A template that does not parse, or names a variable the scope lacks. */
export class TemplateError extends RemedyError {
  /** Offset into the template text, when known. */
  offset?: number;
  constructor(message: string, offset?: number) {
    super(message, EXIT.usage);
    if (offset !== undefined) this.offset = offset;
  }
}

export type EngineKind = 'command' | 'text';

function secondsFilter(value: unknown): unknown {
  if (value instanceof DeferredValue) return value;
  if (typeof value === 'number') return Math.floor(value);
  const text = valueText(value);
  if (/^\d+$/.test(text)) return Number(text);
  if (!isDuration(text)) throw new Error(`seconds: "${text}" is not a duration such as 30s, 5m, 1m30s`);
  return Math.floor(durationMs(text) / 1000);
}

function createEngine(kind: EngineKind): Liquid {
  const liquid = new Liquid({
    strictVariables: true,
    strictFilters: true,
    // `{{ x | default: 'y' }}` must still work for a missing x under strictVariables.
    lenientIf: true,
    ownPropertyOnly: true,
    outputEscape: kind === 'command' ? slotFor : valueText,
    // No file system: runbook text must never read files on the controller.
    templates: {},
    // Bounds against runaway loops in a hostile template.
    parseLimit: 1_000_000,
    renderLimit: 2_000,
    memoryLimit: 50_000_000,
  });
  for (const tag of ['include', 'render', 'layout', 'block']) delete (liquid.tags as Record<string, unknown>)[tag];
  // `quote` is explicit quoting; marked raw so the output escape does not quote it twice. In a
  // command it is the same context-aware placement as any value.
  liquid.registerFilter('quote', { raw: true, handler: (value: unknown) => (kind === 'command' ? slotFor(value) : shellWords(value)) });
  liquid.registerFilter('seconds', secondsFilter);
  return liquid;
}

// Made on first use: templates of the `{{ a.b }}` shape (most commands) never need LiquidJS, and
// building an engine costs start-up time before the first connection.
const engines: Partial<Record<EngineKind, Liquid>> = {};
function engine(kind: EngineKind): Liquid {
  return (engines[kind] ??= createEngine(kind));
}

/** Reads of these names mean something special to LiquidJS (array size, first, last). */
const LIQUID_SPECIAL_PROPS = new Set(['size', 'first', 'last']);

/** `{{ root.a.b }}` with nothing else inside: rendered without LiquidJS. */
interface FastOutput {
  path: string[];
  offset: number;
}
type Compiled =
  | { kind: 'fast'; parts: (string | FastOutput)[]; fallback: () => Template[]; contexts?: ShellContext[] | TemplateError }
  | { kind: 'liquid'; templates: Template[] };

const OUTPUT_OR_TAG = /\{\{|\{%/;
const SIMPLE_OUTPUT = /\{\{ *([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*) *\}\}/g;

function compileFast(text: string, parse: () => Template[]): Compiled | null {
  const parts: (string | FastOutput)[] = [];
  let last = 0;
  for (const m of text.matchAll(SIMPLE_OUTPUT)) {
    const path = (m[1] ?? '').split('.');
    if (path.slice(1).some((p) => LIQUID_SPECIAL_PROPS.has(p))) return null;
    const between = text.slice(last, m.index);
    if (OUTPUT_OR_TAG.test(between) || between.includes('}}') || between.includes('%}')) return null;
    if (between) parts.push(between);
    parts.push({ path, offset: m.index + m[0].indexOf(m[1] ?? '') });
    last = m.index + m[0].length;
  }
  const tail = text.slice(last);
  if (OUTPUT_OR_TAG.test(tail) || tail.includes('}}') || tail.includes('%}')) return null;
  if (tail) parts.push(tail);
  let parsed: Template[] | undefined;
  return { kind: 'fast', parts, fallback: () => (parsed ??= parse()) };
}

const caches: Record<EngineKind, Map<string, Compiled>> = { command: new Map(), text: new Map() };
const CACHE_LIMIT = 20_000;

export function toTemplateError(err: unknown): TemplateError {
  if (err instanceof TemplateError) return err;
  if (err instanceof LiquidError) {
    const token = (err as LiquidError & { token?: { begin?: number } }).token;
    const message = err.message.replace(/, line:\d+, col:\d+[\s\S]*$/, '').replace(/\n/g, '\\n');
    return new TemplateError(message, token?.begin);
  }
  return new TemplateError(err instanceof Error ? err.message : String(err));
}

/** Parses (or fetches from the cache) a template for one engine. Throws TemplateError. */
export function compile(kind: EngineKind, text: string): Compiled {
  const cache = caches[kind];
  let compiled = cache.get(text);
  if (compiled) return compiled;
  const parse = (): Template[] => {
    try {
      return engine(kind).parse(text);
    } catch (err) {
      throw toTemplateError(err);
    }
  };
  compiled = compileFast(text, parse) ?? { kind: 'liquid', templates: parse() };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(text, compiled);
  return compiled;
}

export function liquidFor(kind: EngineKind): Liquid {
  return engine(kind);
}

const NEEDS_LIQUID = Symbol('needs-liquid');
const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
function isPlainData(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  if (Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Looks a path up the way LiquidJS does under strictVariables/ownPropertyOnly, or gives up. */
function lookup(scope: Record<string, unknown>, out: FastOutput, deferred: ReadonlySet<string> | undefined): unknown {
  const [root, ...props] = out.path;
  if (root !== undefined && deferred?.has(root)) return new DeferredValue(out.path.join('.'));
  if (root === undefined || !hasOwn(scope, root) || scope[root] === undefined) {
    throw new TemplateError(`undefined variable: ${root ?? ''}`, out.offset);
  }
  let cur: unknown = scope[root];
  for (let i = 0; i < props.length; i++) {
    const key = props[i] as string;
    if (cur instanceof DeferredValue) return new DeferredValue(out.path.join('.'));
    if (cur === null) return null;
    if (!isPlainData(cur) || Array.isArray(cur)) return NEEDS_LIQUID;
    const next = hasOwn(cur, key) ? cur[key] : undefined;
    if (next === undefined) throw new TemplateError(`undefined variable: ${out.path.slice(0, i + 2).join('.')}`, out.offset);
    if (typeof next === 'function') return NEEDS_LIQUID;
    cur = next;
  }
  if (cur instanceof DeferredValue || cur === null || typeof cur !== 'object' || isPlainData(cur)) return cur;
  return NEEDS_LIQUID;
}

/** Renders a compiled template; roots in `deferred` render as ⟨markers⟩. Throws TemplateError. */
export function renderCompiled(kind: EngineKind, compiled: Compiled, scope: Record<string, unknown>, deferred?: ReadonlySet<string>): string {
  if (kind === 'text') return renderUnplaced(kind, compiled, scope, deferred);
  if (compiled.kind === 'fast') {
    const placed = renderFastCommand(compiled, scope, deferred);
    if (placed !== null) return placed;
  }
  slots = [];
  try {
    const skeleton = renderUnplaced(kind, compiled, scope, deferred);
    return placeSlots(skeleton, slots);
  } finally {
    slots = [];
  }
}

/**
 * The fast path for commands: the skeleton of a `{{ a.b }}`-only template is the same for every
 * host, so the context of each value is found once per template. Null: LiquidJS must render it.
 */
function renderFastCommand(compiled: Extract<Compiled, { kind: 'fast' }>, scope: Record<string, unknown>, deferred?: ReadonlySet<string>): string | null {
  if (compiled.contexts === undefined) {
    let n = 0;
    const skeleton = compiled.parts.map((p) => (typeof p === 'string' ? p : slotWord(n++))).join('');
    try {
      compiled.contexts = n === 0 ? [] : slotContexts(skeleton, n);
    } catch (err) {
      if (!(err instanceof ShellParseError)) throw err;
      compiled.contexts = new TemplateError(`the command does not parse as shell, so its values cannot be quoted safely: ${err.message}`);
    }
  }
  if (compiled.contexts instanceof TemplateError) throw compiled.contexts;
  const contexts = compiled.contexts;
  let out = '';
  let n = 0;
  for (const part of compiled.parts) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    const value = lookup(scope, part, deferred);
    if (value === NEEDS_LIQUID) return null;
    out += placeOne(contexts[n], value, n);
    n++;
  }
  return out;
}

function placeOne(context: ShellContext | undefined, value: unknown, n: number): string {
  const words = Array.isArray(value) ? value.map(valueText) : [valueText(value)];
  try {
    return escapeFor(context ?? { kind: 'refused', why: 'here' }, words);
  } catch (err) {
    if (err instanceof UnsafeContextError) throw new TemplateError(`value #${n + 1} (${JSON.stringify(words.join(' ').slice(0, 40))}): ${err.message}`);
    throw err;
  }
}

function renderUnplaced(kind: EngineKind, compiled: Compiled, scope: Record<string, unknown>, deferred?: ReadonlySet<string>): string {
  if (compiled.kind === 'fast') {
    const escape = kind === 'command' ? slotFor : valueText;
    let out = '';
    for (const part of compiled.parts) {
      if (typeof part === 'string') {
        out += part;
        continue;
      }
      const value = lookup(scope, part, deferred);
      if (value === NEEDS_LIQUID) {
        // LiquidJS renders the whole template again: the values placed so far are re-placed.
        slots = [];
        return renderLiquid(kind, compiled.fallback(), withDeferred(scope, deferred));
      }
      out += escape(value);
    }
    return out;
  }
  return renderLiquid(kind, compiled.templates, withDeferred(scope, deferred));
}

function renderLiquid(kind: EngineKind, templates: Template[], scope: Record<string, unknown>): string {
  try {
    return engine(kind).renderSync(templates, scope) as string;
  } catch (err) {
    throw toTemplateError(err);
  }
}
