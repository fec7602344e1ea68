// The policy as the service applies it: routes, the budgets and how much of each is used per
// scope, open breakers (an admin can reset one), maintenance windows and whether they are on.
// Notification URLs are not shown: a Slack incoming-webhook URL is itself a secret.
import { Authenticator, type Principal } from '../auth.js';
import type { Policy } from '../policy-schema.js';
import { routeName } from '../routing.js';
import type { Breaker } from '../safety.js';
import { badge, html, when, type Html } from './html.js';

export interface BudgetUse {
  route: string;
  scope: string;
  used: number;
  max: number;
  per: string;
}

const labels = (m: Record<string, string> | undefined, op = '='): string =>
  Object.entries(m ?? {})
    .map(([k, v]) => `${k}${op}${v}`)
    .join(', ');

export function policyPage(policy: Policy, budgets: readonly BudgetUse[], breakers: readonly Breaker[], who: Principal, now = Date.now()): Html {
  const isAdmin = Authenticator.allows(who, 'admin');
  return html`<h1>Policy</h1>
  <h2>Routes</h2>
  <ul class="cards">${policy.routes.map(
    (r) => html`<li><h3>${routeName(policy, r)} ${badge(r.mode, r.mode === 'auto' ? 'warn' : 'idle')}</h3>
    <dl class="meta">
      <dt>Matches</dt><dd><code>${[labels(r.match), labels(r.match_re, '=~')].filter(Boolean).join(', ') || 'every alert'}</code>${r.source ? ` from ${r.source}` : ''}</dd>
      <dt>Runbook</dt><dd>${r.runbook}</dd>
      <dt>Inventory</dt><dd>${r.inventory}</dd>
      ${Object.keys(r.params).length > 0 ? html`<dt>Params</dt><dd><code>${labels(r.params)}</code></dd>` : ''}
      ${r.limit ? html`<dt>Limit</dt><dd><code>${r.limit}</code></dd>` : ''}
      <dt>Queue</dt><dd>${r.queue}</dd>
      <dt>Budget</dt><dd>${r.budget ? `${r.budget.max} per ${r.budget.per}` : 'none'}${r.cooldown ? ` · cooldown ${r.cooldown}` : ''}</dd>
      <dt>Breaker</dt><dd>${r.breaker === false ? 'off' : `trips on a new firing within ${r.breaker.window} of a resolved run`}</dd>
      ${r.mode === 'approve' ? html`<dt>Approval</dt><dd>waits at most ${r.approval_timeout}</dd>` : ''}
    </dl></li>`,
  )}</ul>
  <h2>Budgets in use</h2>
  ${budgets.length === 0 ? html`<p class="muted">No budgeted scope has run in its window.</p>` : html`<div class="scroll"><table><thead><tr><th scope="col">Route</th><th scope="col">Scope</th><th scope="col">Used</th></tr></thead><tbody>${budgets.map((b) => html`<tr><td>${b.route}</td><td>${b.scope}</td><td><meter min="0" max="${b.max}" value="${b.used}" aria-label="${b.used} of ${b.max}"></meter> ${b.used} of ${b.max} per ${b.per}</td></tr>`)}</tbody></table></div>`}
  <h2>Breakers</h2>
  ${
    breakers.length === 0
      ? html`<p class="muted">No breaker is open: auto-runs may start.</p>`
      : html`<ul class="cards">${breakers.map(
          (b) => html`<li class="breaker" data-breaker="${b.id}"><h3>${badge('open', 'bad')} ${b.route}</h3>
    <dl class="meta"><dt>Scope</dt><dd>${b.scope}</dd><dt>Tripped</dt><dd>${when(b.trippedAt)}</dd><dt>Resolved run</dt><dd><a href="/runs/${b.resolvedRun}">${b.resolvedRun}</a></dd><dt>Refused run</dt><dd><a href="/runs/${b.refusedRun}">${b.refusedRun}</a></dd></dl>
    ${isAdmin ? html`<button type="button" class="danger" data-reset-breaker="${b.id}">Reset breaker</button><span class="result" role="status" aria-live="polite"></span>` : html`<p class="note">Only an admin can reset it.</p>`}
  </li>`,
        )}</ul>`
  }
  <h2>Maintenance windows</h2>
  ${
    policy.maintenance.length === 0
      ? html`<p class="muted">None.</p>`
      : html`<ul class="cards">${policy.maintenance.map((m) => {
          const state = now < Date.parse(m.start) ? 'upcoming' : now >= Date.parse(m.end) ? 'over' : 'active';
          return html`<li><h3>${m.name} ${badge(state, state === 'active' ? 'warn' : 'idle')}</h3><dl class="meta"><dt>Alerts</dt><dd><code>${labels(m.match) || 'every alert'}</code></dd><dt>From</dt><dd>${when(m.start)}</dd><dt>Until</dt><dd>${when(m.end)}</dd></dl></li>`;
        })}</ul>`
  }
  <h2>Notifications</h2>
  ${policy.notify.length === 0 ? html`<p class="muted">None configured.</p>` : html`<ul>${policy.notify.map((n, i) => html`<li>${n.name ?? `notify[${i}]`} (${n.format}): ${n.on.join(', ')}</li>`)}</ul>`}`;
}
