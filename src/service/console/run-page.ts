// The run page: where the run stands (outcome, per-host status, the approval panel), why
// (the policy decision, the alert, the diagnosis with its evidence and facts), how long each
// phase took (the report's SVG), what it left (artifacts with size and sha256, the report).
// The timeline is drawn by console.js from the API's Server-Sent Events; the "live" part of the
// page is re-rendered here and fetched again while the run is not over.
import type { RunEvent } from '../../engine/events.js';
import { buildReportModel, type ReportModel } from '../../journal/report-model.js';
import { phaseTimelineSvg } from '../../journal/report-svg.js';
import type { Principal } from '../auth.js';
import { FINAL_OUTCOMES, type RunRecord } from '../store.js';
import { approvalPanel, factsTable } from './approval-panel.js';
import { badge, bytes, duration, esc, html, runBadges, trusted, when, type Html } from './html.js';

/** Per host: the final status when the run has ended, otherwise the last step it finished. */
export function hostStatus(run: RunRecord, events: readonly RunEvent[]): { host: string; status: string; step: string | null }[] {
  const start = [...events].reverse().find((e): e is Extract<RunEvent, { type: 'run-start' }> => e.type === 'run-start');
  const hosts = [...new Set([...(start?.hosts ?? []), ...Object.keys(run.hosts)])];
  return hosts.map((host) => {
    const last = [...events].reverse().find((e): e is Extract<RunEvent, { type: 'host-end' }> => e.type === 'host-end' && e.host === host);
    const final = run.hosts[host];
    return { host, status: final ?? (last ? last.status : 'waiting'), step: last?.step ?? null };
  });
}

function model(run: RunRecord, events: readonly RunEvent[]): ReportModel | null {
  if (events.length === 0) return null;
  return buildReportModel(events, { runDir: run.runDir ?? undefined });
}

/** The part of the page that changes while the run goes on (fetched again by console.js). */
export function liveSection(run: RunRecord, events: readonly RunEvent[]): Html {
  const m = model(run, events);
  const hosts = hostStatus(run, events);
  const decision = m?.diagnosis ?? null;
  const evidence = m?.evidence ?? [];
  return html`<section id="live" data-final="${FINAL_OUTCOMES.includes(run.outcome) ? 'yes' : 'no'}" aria-label="Status">
  <p class="status">${runBadges(run)}${run.cause ? html` cause <strong>${run.cause}</strong>` : ''}${run.exitCode !== null ? html` · exit ${run.exitCode}` : ''}${run.endedAt ? html` · ended ${when(run.endedAt)}${run.startedAt ? ` after ${duration(Date.parse(run.endedAt) - Date.parse(run.startedAt))}` : ''}` : ''}</p>
  ${run.message ? html`<p class="message">${run.message}</p>` : ''}
  <h2>Hosts</h2>
  ${hosts.length === 0 ? html`<p class="muted">No host yet${run.outcome === 'queued' ? ': the run waits for a worker' : ''}.</p>` : html`<ul class="hostlist">${hosts.map((h) => html`<li><span class="host">${h.host}</span> ${badge(h.status)}${h.step ? html` <span class="muted">after ${h.step}</span>` : ''}</li>`)}</ul>`}
  <h2>Diagnosis</h2>
  ${decision ? html`<p>Cause <strong>${decision.cause}</strong>${decision.evidence.condition ? html` because <code>${decision.evidence.condition}</code>` : ''}${decision.override ? html` (overridden from ${decision.override.from} by ${decision.override.operator})` : ''}</p>${factsTable(decision.evidence.facts)}` : html`<p class="muted">No decision yet.</p>`}
  ${evidence.length > 0 ? html`<h3>Evidence</h3>${evidence.map((b) => html`<figure class="evidence"><figcaption>${b.title} <span class="muted">· ${b.host} · step ${b.step}</span></figcaption><pre><code>${b.lines.join('\n')}</code></pre>${b.omitted > 0 ? html`<p class="muted">${b.omitted} more matching lines in ${b.output ? html`<a href="/runs/${run.id}/files/${b.output}">${b.output}</a>` : 'the full output'}</p>` : ''}</figure>`)}` : ''}
  ${m ? html`<h2>Phase timings</h2><div class="svgwrap">${trusted(phaseTimelineSvg(m.phases, esc))}</div>` : ''}
  ${m && m.artifacts.length > 0 ? artifacts(run.id, m) : ''}
  ${m ? html`<h2>Report</h2><p><a href="/runs/${run.id}/files/">Report (HTML)</a> · <a href="/api/runs/${run.id}/report?format=markdown">Markdown</a> · <a href="/api/runs/${run.id}/report?format=json">JSON</a></p>` : ''}
</section>`;
}

function artifacts(id: string, m: ReportModel): Html {
  return html`<h2>Artifacts</h2><div class="scroll"><table class="artifacts"><thead><tr><th scope="col">File</th><th scope="col">Host</th><th scope="col">Size</th><th scope="col">sha256</th></tr></thead><tbody>
  ${m.artifacts.map((a) => html`<tr><td>${a.present ? html`<a href="/runs/${id}/files/${a.path}" download>${a.path}</a>` : html`${a.path} <span class="muted">(not on this server)</span>`}</td><td>${a.host}</td><td>${bytes(a.bytes)}</td><td><code class="hash">${a.sha256}</code></td></tr>`)}
  </tbody></table></div>`;
}

export function runPage(run: RunRecord, events: readonly RunEvent[], who: Principal): Html {
  const d = run.decision;
  return html`<div class="run" data-run="${run.id}">
  <h1>${run.runbook} <span class="muted id">${run.id}</span></h1>
  <dl class="meta">
    <dt>Mode</dt><dd>${d.mode}${d.route ? html` · route ${d.route}` : ''} · queue ${d.queue}</dd>
    <dt>Started by</dt><dd>${run.alert ? html`alert ${run.alert.labels['alertname'] ?? run.alert.fingerprint} (${run.alert.source})` : d.requestedBy ? `${d.requestedBy} (manual)` : '—'}</dd>
    <dt>Created</dt><dd>${when(run.createdAt)}</dd>
    ${d.reason ? html`<dt>Policy</dt><dd>${d.reason}</dd>` : ''}
    ${Object.keys(run.params).length > 0 ? html`<dt>Params</dt><dd>${Object.entries(run.params).map(([k, v]) => html`<code>${k}=${v}</code> `)}</dd>` : ''}
    ${run.limit ? html`<dt>Limit</dt><dd><code>${run.limit}</code></dd>` : ''}
    ${run.planHash ? html`<dt>Plan hash</dt><dd><code class="hash">${run.planHash}</code></dd>` : ''}
  </dl>
  ${approvalPanel(run, events, who)}
  ${liveSection(run, events)}
  ${run.alert ? html`<details><summary>Alert labels</summary><dl class="meta">${Object.entries(run.alert.labels).map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl></details>` : ''}
  <h2 id="timeline-h">Timeline</h2>
  <ol id="timeline" class="timeline" aria-labelledby="timeline-h" aria-live="polite"></ol>
  <noscript><p>The live timeline needs JavaScript; the <a href="/runs/${run.id}/files/">report</a> has the same events.</p></noscript>
</div>`;
}
