// Secrets never leave the process in clear: every sink (console, journal, outputs, report, plan)
// passes text through one Redactor built from the run's secret values.

export const REDACTED = '********';

export class Redactor {
  private readonly secrets: string[];

  constructor(secrets: Iterable<string>) {
    // Longest first, so a secret that contains another is masked whole. Very short values
    // (1-2 chars) would mask unrelated text everywhere; they are still masked, but only as
    // whole words.
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
        out = out.replace(new RegExp(`\\b${escapeRegExp(secret)}\\b`, 'g'), REDACTED);
      } else {
        out = out.split(secret).join(REDACTED);
      }
    }
    return out;
  }

  /** Redacts every string inside a JSON-like value. */
  redactValue<T>(value: T): T {
    if (this.empty) return value;
    return JSON.parse(this.redact(JSON.stringify(value))) as T;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
