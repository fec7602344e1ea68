// The runbook catalogue: every runbook under runbooks/ (and any a route names by path), with
// its summary, params and routes; a runbook's page draws its decision graph (`remedy graph`'s
// Mermaid, rendered in the browser by the mermaid package served from node_modules) and plans
// it against a route's inventory. Operators may then probe it or start a run through the API.
import { existsSync } from 'node:fs';
import { renderPlanMermaid, renderPlanText } from '../../plan/index.js';
import { defaultSearchDirs, expandRunbookPaths, isVarsFile, loadRunbook, resolveRunbookRef } from '../../runbook/index.js';
import { planWithOverrides } from '../../session/inputs.js';
import { Authenticator, type Principal } from '../auth.js';
import type { Policy } from '../policy-schema.js';
import { routeName } from '../routing.js';
import { html, type Html } from './html.js';

export interface CatalogueParam {
  name: string;
  type: string;
  description: string | null;
  default: string | null;
  required: boolean;
  values: string[] | null;
  secret: boolean;
}

export interface CatalogueEntry {
  name: string;
  file: string;
  summary: string;
  description: string | null;
  params: CatalogueParam[];
  /** Routes running it: the ref they use (what POST /api/runs takes), their name, inventory and mode. */
  routes: { ref: string; name: string; inventory: string; mode: string }[];
  problem: string | null;
}

/** The catalogue, read fresh (runbooks are files people edit). */
export function catalogue(policy: Policy): CatalogueEntry[] {
  const files = new Set<string>();
  for (const dir of defaultSearchDirs()) if (existsSync(dir)) for (const f of expandRunbookPaths([dir])) if (!isVarsFile(f)) files.add(f);
  const refs = new Map<string, { ref: string; name: string; inventory: string; mode: string }[]>();
  for (const r of policy.routes) {
    let file: string;
    try {
      file = resolveRunbookRef(r.runbook);
    } catch {
      continue;
    }
    files.add(file);
    refs.set(file, [...(refs.get(file) ?? []), { ref: r.runbook, name: routeName(policy, r), inventory: r.inventory, mode: r.mode }]);
  }
  const out: CatalogueEntry[] = [];
  for (const file of files) {
    try {
      const { loaded } = loadRunbook(file);
      const rb = loaded.runbook;
      out.push({
        name: rb.name,
        file,
        summary: rb.summary,
        description: rb.description ?? null,
        params: Object.entries(rb.params ?? {}).map(([name, p]) => ({
          name,
          type: p.type,
          description: p.description ?? null,
          default: p.default === undefined ? null : String(p.default),
          required: p.required === true,
          values: p.values ?? null,
          secret: p.secret === true,
        })),
        routes: refs.get(file) ?? [],
        problem: null,
      });
    } catch (err) {
      out.push({
        name: file.replace(/^.*\//, '').replace(/\.ya?ml$/, ''),
        file,
        summary: '',
        description: null,
        params: [],
        routes: refs.get(file) ?? [],
        problem: (err as Error).message,
      });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export function cataloguePage(entries: readonly CatalogueEntry[]): Html {
  return html`<h1>Runbooks</h1>
  <ul class="catalogue">${entries.map(
    (e) => html`<li>
    <h2><a href="/runbooks/${e.name}">${e.name}</a></h2>
    ${e.problem ? html`<p class="error">${e.problem}</p>` : html`<p>${e.summary}</p>`}
    <p class="muted">${e.params.length} param${e.params.length === 1 ? '' : 's'} · ${e.routes.length > 0 ? `routes: ${e.routes.map((r) => `${r.name} (${r.mode})`).join(', ')}` : 'no route runs it'}</p>
  </li>`,
  )}</ul>`;
}

export interface PlanRequest {
  route: string;
  params: Record<string, string>;
  limit: string;
}

/** The plan form's values from the query string (p.<name>=value). */
export function readPlanRequest(q: Record<string, unknown>): PlanRequest | null {
  if (typeof q['route'] !== 'string') return null;
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(q))
    if (k.startsWith('p.') && typeof v === 'string' && v !== '' && /^[a-z][a-z0-9_]*$/.test(k.slice(2))) params[k.slice(2)] = v.slice(0, 4096);
  return { route: q['route'].slice(0, 256), params, limit: typeof q['limit'] === 'string' ? q['limit'].slice(0, 4096).trim() : '' };
}

export function graphOf(e: CatalogueEntry): { mermaid: string } | { error: string } {
  try {
    return { mermaid: renderPlanMermaid(planWithOverrides(e.file, { overrides: {} }).plan) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

export function planOf(e: CatalogueEntry, req: PlanRequest): { text: string; hash: string } | { error: string } {
  const route = e.routes.find((r) => r.name === req.route);
  if (!route) return { error: `no route ${req.route} runs ${e.name}` };
  try {
    const { plan } = planWithOverrides(route.ref, { inventory: route.inventory, overrides: req.params, limit: req.limit || undefined });
    return { text: renderPlanText(plan, { color: false }), hash: plan.planHash };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

export function runbookPage(e: CatalogueEntry, who: Principal, req: PlanRequest | null): Html {
  const graph = graphOf(e);
  const planned = req ? planOf(e, req) : null;
  const route = e.routes.find((r) => r.name === req?.route) ?? e.routes[0];
  const canRun = Authenticator.allows(who, 'operator');
  return html`<h1>${e.name}</h1>
  <p>${e.summary}</p>
  ${e.description ? html`<p class="muted">${e.description}</p>` : ''}
  <h2>Params</h2>
  ${e.params.length === 0 ? html`<p class="muted">None.</p>` : html`<dl class="params">${e.params.map((p) => html`<dt><code>${p.name}</code> <span class="muted">${p.type}${p.required ? ', required' : ''}${p.default !== null ? `, default ${p.secret ? '********' : p.default}` : ''}</span></dt><dd>${p.description ?? ''}${p.values ? html` <span class="muted">(${p.values.join(' | ')})</span>` : ''}</dd>`)}</dl>`}
  <h2>Decision graph</h2>
  ${'mermaid' in graph ? html`<div class="graph"><pre class="mermaid" aria-label="Decision graph of ${e.name}">${graph.mermaid}</pre></div><details><summary>Mermaid source</summary><pre><code>${graph.mermaid}</code></pre></details>` : html`<p class="error">${graph.error}</p>`}
  <h2 id="plan-h">Plan</h2>
  ${
    e.routes.length === 0
      ? html`<p class="muted">No route of the policy runs this runbook, so there is no inventory to plan against.</p>`
      : html`<form class="planform" method="get" action="/runbooks/${e.name}" aria-labelledby="plan-h">
    <label>Route (inventory) <select name="route">${e.routes.map((r) => html`<option value="${r.name}"${r.name === route?.name ? SELECTED : ''}>${r.name} · ${r.inventory} · ${r.mode}</option>`)}</select></label>
    ${e.params.map((p) => html`<label>${p.name} <input name="p.${p.name}" value="${req?.params[p.name] ?? ''}" placeholder="${p.secret ? '' : (p.default ?? '')}" ${p.secret ? html`type="password"` : ''} autocomplete="off"></label>`)}
    <label>Limit <input name="limit" value="${req?.limit ?? ''}" placeholder="all hosts" autocomplete="off"></label>
    <button type="submit">Show the plan</button>
  </form>`
  }
  ${
    planned
      ? 'error' in planned
        ? html`<p class="error" role="alert">${planned.error}</p>`
        : html`<pre class="plan" tabindex="0"><code>${planned.text}</code></pre>
    ${
      canRun && req
        ? html`<form class="startrun" data-runbook="${route?.ref ?? ''}" data-route="${req.route}" data-params="${JSON.stringify(req.params)}" data-limit="${req.limit}">
      <button type="submit" name="mode" value="plan">Probe (read-only diagnosis)</button>
      <button type="submit" name="mode" value="approve" class="primary">Start run (approve each fix)</button>
      <button type="submit" name="mode" value="auto" class="danger">Start run (auto)</button>
      <p class="result" role="status" aria-live="polite"></p>
    </form>`
        : html`<p class="note">Probing and starting runs needs the operator role.</p>`
    }`
      : ''
  }`;
}

const SELECTED = html` selected`;
