// Secrets never leave the process in clear: every sink (console, journal, outputs, report, plan)
// passes text through one Redactor built from the run's secret values.

export const REDACTED = '********';

export class Redactor {
  private readonly secrets: string[];

  constructor(secrets: Iterable<string>) {
    // Longest first, so a secret that contains another is masked whole. Very short values
    // (1-2 chars) would mask unrelated text everywhere; they are still masked, but only as
    // whole words (not next to a letter, digit or underscore).
    this.secrets = [...new Set([...secrets].filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
  }

  /** The secret values, longest first. */
  get values(): readonly string[] {
    return this.secrets;
  }

  get empty(): boolean {
    return this.secrets.length === 0;
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) {
      if (secret.length <= 2) {
        out = out.replace(new RegExp(`(?<!\\w)${escapeRegExp(secret)}(?!\\w)`, 'g'), REDACTED);
      } else {
        out = out.split(secret).join(REDACTED);
      }
    }
    return out;
  }

  /**
   * Redacts every string value inside a JSON-like value, structurally: keys, numbers, booleans
   * and null are never touched, so a secret such as `1`, `true` or `seq` cannot rename a field
   * or break the JSON. (A text replace over serialized JSON did both.) Returns a copy.
   */
  redactValue<T>(value: T): T {
    if (this.empty) return value;
    return this.#redactNode(value, 0) as T;
  }

  #redactNode(value: unknown, depth: number): unknown {
    if (typeof value === 'string') return this.redact(value);
    if (value === null || typeof value !== 'object') return value;
    // Events are a few levels deep; a cycle or absurd depth is a bug, not something to mask.
    if (depth > 200) throw new Error('redactValue: value nested more than 200 levels');
    const json = (value as { toJSON?: unknown }).toJSON;
    if (typeof json === 'function') return this.#redactNode((json as () => unknown).call(value), depth + 1);
    if (Array.isArray(value)) return value.map((v) => this.#redactNode(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined || typeof v === 'function') continue;
      out[k] = this.#redactNode(v, depth + 1);
    }
    return out;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
