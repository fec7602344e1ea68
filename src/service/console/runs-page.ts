// The runs list: newest first, filtered by outcome, runbook, host and time (the API's filters),
// with badges for what needs people. console.js fetches the list part again every few seconds.
import type { RunRecord } from '../store.js';
import { FINAL_OUTCOMES } from '../store.js';
import { duration, html, runBadges, when, type Html } from './html.js';

export const OUTCOME_FILTERS = ['queued', 'running', ...FINAL_OUTCOMES] as const;
export const SINCE_CHOICES: Record<string, number> = { '1h': 3600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 };

export interface RunsFilter {
  outcome: string;
  runbook: string;
  host: string;
  since: string;
  attention: boolean;
}

export function readFilter(q: Record<string, unknown>): RunsFilter {
  const s = (k: string, max = 256): string => (typeof q[k] === 'string' ? (q[k] as string).slice(0, max).trim() : '');
  const outcome = s('outcome', 64);
  const since = s('since', 8);
  return {
    outcome: (OUTCOME_FILTERS as readonly string[]).includes(outcome) ? outcome : '',
    runbook: s('runbook'),
    host: s('host'),
    since: since in SINCE_CHOICES ? since : '',
    attention: q['attention'] === '1',
  };
}

/** Runs needing people: waiting for an approval, escalated, or refused by policy. */
export const needsPeople = (r: RunRecord): boolean => r.approval !== null || r.outcome === 'escalated' || r.outcome === 'refused';

export function runsList(runs: readonly RunRecord[]): Html {
  if (runs.length === 0) return html`<p class="muted" id="runs-empty">No runs match.</p>`;
  return html`<ul class="runs">${runs.map((r) => {
    const took = r.startedAt && r.endedAt ? duration(Date.parse(r.endedAt) - Date.parse(r.startedAt)) : null;
    const hosts = Object.keys(r.hosts);
    return html`<li class="runrow" data-id="${r.id}" data-outcome="${r.outcome}">
      <a class="runlink" href="/runs/${r.id}"><strong>${r.runbook}</strong> <span class="muted id">${r.id}</span></a>
      <span class="badges">${runBadges(r)}</span>
      <span class="detail">${r.cause ? html`cause <strong>${r.cause}</strong> · ` : ''}${r.alert ? `alert ${r.alert.labels['alertname'] ?? r.alert.fingerprint}` : r.decision.requestedBy ? `manual by ${r.decision.requestedBy}` : ''}${hosts.length > 0 ? ` · ${hosts.length <= 3 ? hosts.join(', ') : `${hosts.length} hosts`}` : r.limit ? ` · limit ${r.limit}` : ''}</span>
      <span class="when">${when(r.createdAt)}${took ? ` · ${took}` : ''}</span>
      ${r.outcome === 'refused' && r.decision.reason ? html`<span class="reason">${r.decision.reason}</span>` : ''}
    </li>`;
  })}</ul>`;
}

export function runsPage(runs: readonly RunRecord[], f: RunsFilter, runbooks: readonly string[]): Html {
  const opt = (value: string, label: string, current: string) => html`<option value="${value}"${value === current ? SELECTED : ''}>${label}</option>`;
  return html`<h1>Runs</h1>
  <form class="filters" method="get" action="/runs" role="search">
    <label>Outcome <select name="outcome">${opt('', 'any', f.outcome)}${OUTCOME_FILTERS.map((o) => opt(o, o, f.outcome))}</select></label>
    <label>Runbook <select name="runbook">${opt('', 'any', f.runbook)}${runbooks.map((r) => opt(r, r, f.runbook))}</select></label>
    <label>Host <input name="host" value="${f.host}" size="12" autocomplete="off"></label>
    <label>Since <select name="since">${opt('', 'any time', f.since)}${Object.keys(SINCE_CHOICES).map((s) => opt(s, `last ${s}`, f.since))}</select></label>
    <label class="check"><input type="checkbox" name="attention" value="1" ${f.attention ? CHECKED : ''}> needs people</label>
    <button type="submit">Filter</button>
  </form>
  <div id="runs" data-live-list aria-live="polite">${runsList(runs)}</div>`;
}

const SELECTED = html` selected`;
const CHECKED = html`checked`;
