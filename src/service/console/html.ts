// Server-rendered HTML with escaping by construction: every value interpolated into `html`
// is escaped unless it is itself Html (a fragment built the same way). The page frame, the nav
// and the badges every page shares live here.
import type { Principal } from '../auth.js';
import type { RunRecord } from '../store.js';

export class Html {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

function part(v: unknown): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(part).join('');
  return esc(v);
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += part(v) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** Markup produced by remedy itself (the report's SVG), never from a request or a host. */
export const trusted = (markup: string): Html => new Html(markup);

export type Section = 'runs' | 'runbooks' | 'policy' | null;

export interface PageFrame {
  title: string;
  who: Principal | null;
  csrf: string | null;
  section: Section;
  body: Html;
  /** Extra scripts (served from /assets), e.g. mermaid on the runbook page. */
  scripts?: string[];
}

export function page(f: PageFrame): string {
  const nav = f.who
    ? html`<nav aria-label="Main"><a href="/runs" ${f.section === 'runs' ? trusted('aria-current="page"') : ''}>Runs</a><a href="/runbooks" ${f.section === 'runbooks' ? trusted('aria-current="page"') : ''}>Runbooks</a><a href="/policy" ${f.section === 'policy' ? trusted('aria-current="page"') : ''}>Policy</a></nav>
      <form method="post" action="/logout" class="who"><span>${f.who.name} <span class="role">${f.who.role}</span></span><input type="hidden" name="_csrf" value="${f.csrf ?? ''}"><button type="submit">Log out</button></form>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(f.title)} · remedy</title>
${f.csrf ? `<meta name="csrf-token" content="${esc(f.csrf)}">` : ''}
<link rel="stylesheet" href="/assets/console.css">
${[...(f.scripts ?? []), '/assets/console.js'].map((s) => `<script src="${esc(s)}" defer></script>`).join('\n')}
</head><body>
<a class="skip" href="#main">Skip to content</a>
<header><a class="brand" href="/runs">remedy</a>${nav}</header>
<main id="main" tabindex="-1">${f.body.value}</main>
</body></html>`;
}

export type Tone = 'ok' | 'bad' | 'warn' | 'wait' | 'idle';

export function toneOf(outcome: string): Tone {
  switch (outcome) {
    case 'resolved':
    case 'nothing-to-do':
    case 'ok':
      return 'ok';
    case 'failed':
    case 'unreachable':
    case 'refused':
    case 'timed-out':
      return 'bad';
    case 'escalated':
    case 'interrupted':
    case 'cancelled':
    case 'partial':
    case 'not-remediated':
      return 'warn';
    case 'queued':
    case 'running':
      return 'wait';
    default:
      return 'idle';
  }
}

export const badge = (text: string, tone: Tone = toneOf(text)): Html => html`<span class="badge ${tone}">${text}</span>`;

/** The badges of a run in lists: its outcome, and what needs people. */
export function runBadges(run: RunRecord): Html {
  const out: Html[] = [badge(run.outcome)];
  if (run.approval) out.push(badge('awaiting approval', 'wait'));
  if (run.outcome === 'refused' && run.decision.reason) out.push(badge('refused by policy', 'bad'));
  if (run.outcome === 'escalated') out.push(badge('escalated: needs people', 'warn'));
  return html`${out}`;
}

export function when(iso: string | null): Html {
  if (!iso) return html`<span class="muted">—</span>`;
  return html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`;
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
