// How template values become text, and how values unknown until run time are carried through a
// render. Shared by the LiquidJS engines and the fast path so both print exactly the same bytes.
import { Drop } from 'liquidjs';
import { shellQuote } from '../shell/quote.js';

/**
 * A value known only at run time (a fact, the cause). Any property read on it yields a deeper
 * marker, so `{{ facts.mp_pid }}` renders `⟨facts.mp_pid⟩`. The path is a private field: with
 * `ownPropertyOnly` a template cannot read it as a property.
 */
export class DeferredValue extends Drop {
  readonly #path: string;
  constructor(path: string) {
    super();
    this.#path = path;
  }
  override liquidMethodMissing(key: string | number): DeferredValue {
    return new DeferredValue(`${this.#path}.${String(key)}`);
  }
  override valueOf(): string {
    return `⟨${this.#path}⟩`;
  }
  override toString(): string {
    return this.valueOf();
  }
}

/** One value as text: null → '', objects as JSON, markers as ⟨path⟩. */
export function valueText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof DeferredValue) return value.valueOf();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Drop) return valueText(value.valueOf());
  if (Array.isArray(value)) return value.map(valueText).join(' ');
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));
}

/**
 * A value as shell words: a list is one quoted word per element (argv), anything else one
 * quoted word. Quoting is POSIX single quotes, safe in sh, dash, bash, busybox and zsh.
 */
export function shellWords(value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => shellQuote(valueText(v))).join(' ');
  return shellQuote(valueText(value));
}

/** Builds the scope a render sees: roots named in `deferred` are replaced by markers. */
export function withDeferred(scope: Record<string, unknown>, deferred: ReadonlySet<string> | undefined): Record<string, unknown> {
  if (!deferred || deferred.size === 0) return scope;
  const out: Record<string, unknown> = { ...scope };
  for (const root of deferred) out[root] = new DeferredValue(root);
  return out;
}
