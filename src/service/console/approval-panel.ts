// The approval panel: what the run concluded and the evidence, then exactly what the step would
// do — the rendered command and the properties diff per host, identical hosts folded into one
// entry — bound to the plan hash. The buttons post to the API (POST /api/runs/:id/approvals)
// with the session's CSRF token; the API takes the operator from the session.
import type { RunEvent } from '../../engine/events.js';
import type { Principal } from '../auth.js';
import { Authenticator } from '../auth.js';
import type { PendingApproval, RunRecord } from '../store.js';
import { html, type Html } from './html.js';

/** Hosts with the same text share one entry, in the order the hosts were given. */
export function foldByText(entries: readonly { host: string; text: string }[]): { text: string; hosts: string[] }[] {
  const groups = new Map<string, string[]>();
  for (const e of entries) groups.set(e.text, [...(groups.get(e.text) ?? []), e.host]);
  return [...groups].map(([text, hosts]) => ({ text, hosts }));
}

/** Identifies one wait (a new batch or step is a new panel); the page swaps the panel only when it changes. */
export const panelKey = (p: PendingApproval | null): string => (p ? `${p.step}#${p.batch ?? 0}#${p.planHash}` : 'none');

export function approvalPanel(run: RunRecord, events: readonly RunEvent[], who: Principal): Html {
  const p = run.approval;
  if (!p) return html`<section id="panel" data-key="none" hidden></section>`;
  const decision = [...events].reverse().find((e): e is Extract<RunEvent, { type: 'decision' }> => e.type === 'decision');
  const stepStart = [...events].reverse().find((e): e is Extract<RunEvent, { type: 'step-start' }> => e.type === 'step-start' && e.step === p.step);
  const batches = stepStart?.batches ?? p.batchCount ?? null;
  const canApprove = Authenticator.allows(who, 'operator');
  const commands = foldByText(p.commands.map((c) => ({ host: c.host, text: c.command })));
  const diffs = foldByText(Object.entries(p.diffs).map(([host, text]) => ({ host, text })));
  const hostList = (hosts: string[]) =>
    html`<span class="hosts">${hosts.length === p.hosts.length && p.hosts.length > 1 ? `all ${hosts.length} hosts: ` : ''}${hosts.join(', ')}</span>`;
  const remaining = p.batch !== null && batches !== null && p.batch < batches;
  return html`<section id="panel" class="panel" data-key="${panelKey(p)}" aria-labelledby="panel-h">
  <h2 id="panel-h">Approval needed: step <code>${p.step}</code>${p.batch !== null ? html` · batch ${p.batch}${batches ? ` of ${batches}` : ''}` : ''}</h2>
  <p class="cause">Concluded cause: <strong>${decision?.cause ?? run.cause ?? 'not decided yet'}</strong>${decision?.evidence.condition ? html` because <code>${decision.evidence.condition}</code>` : ''}</p>
  ${decision ? factsTable(decision.evidence.facts) : ''}
  <p>Plan hash <code class="hash" data-hash>${p.planHash}</code> · asked ${p.requestedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</p>
  <h3>Commands it would run</h3>
  ${commands.length === 0 ? html`<p class="muted">No command (a step without a shell command).</p>` : commands.map((g) => html`<div class="cmd"><div class="for">${hostList(g.hosts)}</div><pre><code>${g.text}</code></pre></div>`)}
  ${diffs.length > 0 ? html`<h3>Properties changes</h3>${diffs.map((g) => html`<div class="cmd"><div class="for">${hostList(g.hosts)}</div><pre class="diff"><code>${g.text}</code></pre></div>`)}` : ''}
  ${
    canApprove
      ? html`<form class="approve" data-run="${run.id}" data-step="${p.step}" data-plan-hash="${p.planHash}">
    <fieldset><legend>Hosts</legend>
    ${p.hosts.map((h) => html`<label class="check"><input type="checkbox" name="host" value="${h}" checked> ${h}</label>`)}
    </fieldset>
    <label for="comment">Comment (required to deny)</label>
    <textarea id="comment" name="comment" rows="2" maxlength="4096"></textarea>
    <div class="buttons">
      <button type="submit" name="decision" value="approved" class="primary">Approve on selected hosts</button>
      ${remaining ? html`<button type="submit" name="decision" value="approved-remaining">Approve this and the remaining batches</button>` : ''}
      <button type="submit" name="decision" value="skipped">Skip this step</button>
      <button type="submit" name="decision" value="refused" class="danger">Deny</button>
    </div>
    <p class="result" role="status" aria-live="polite"></p>
  </form>`
      : html`<p class="note" role="note">You are logged in as ${who.name} (${who.role}): only an operator or admin can approve.</p>`
  }
</section>`;
}

export function factsTable(facts: Record<string, Record<string, unknown>>): Html {
  const rows = Object.entries(facts);
  if (rows.length === 0) return html``;
  const keys = [...new Set(rows.flatMap(([, f]) => Object.keys(f)))];
  // Hosts with the same facts fold into one row, as in the guided screen.
  const folded = foldByText(rows.map(([host, f]) => ({ host, text: JSON.stringify(keys.map((k) => f[k] ?? null)) })));
  return html`<div class="scroll"><table class="facts"><caption>Facts the decision read</caption><thead><tr><th scope="col">Hosts</th>${keys.map((k) => html`<th scope="col">${k}</th>`)}</tr></thead>
  <tbody>${folded.map((g) => html`<tr><th scope="row">${g.hosts.join(', ')}</th>${(JSON.parse(g.text) as unknown[]).map((v) => (v === null ? html`<td class="muted">—</td>` : html`<td><code>${typeof v === 'string' ? v : JSON.stringify(v)}</code></td>`))}</tr>`)}</tbody></table></div>`;
}
