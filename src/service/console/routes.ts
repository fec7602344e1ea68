// The web console, served by `remedy serve` at `/`: a cookie session from a token login, then
// server-rendered pages that read the same run store as the API. Every state change goes through
// the API (approvals, manual runs, breaker resets) with the session standing in for a bearer
// token and the CSRF token in X-CSRF-Token; the only forms posted here are login and logout.
import { createReadStream, existsSync, realpathSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { buildReportModel } from '../../journal/report-model.js';
import { renderReport } from '../../journal/report.js';
import type { Policy } from '../policy-schema.js';
import { routeName } from '../routing.js';
import type { Safety } from '../safety.js';
import { FINAL_OUTCOMES, type RunRecord, type RunStore } from '../store.js';
import { panelKey, approvalPanel } from './approval-panel.js';
import { asset } from './assets.js';
import { html, page, type Section } from './html.js';
import { loginPage } from './login-page.js';
import { policyPage, type BudgetUse } from './policy-page.js';
import { liveSection, runPage } from './run-page.js';
import { catalogue, cataloguePage, readPlanRequest, runbookPage } from './runbooks-page.js';
import { needsPeople, readFilter, runsList, runsPage, SINCE_CHOICES } from './runs-page.js';
import type { ConsoleSession, ConsoleSessions } from './session.js';

export interface ConsoleDeps {
  sessions: ConsoleSessions;
  store: RunStore;
  safety: Safety;
  policy: Policy;
  log: (line: string) => void;
}

/** Pages allow only their own scripts; styles inline for mermaid's SVG; never framed. */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

function form(req: FastifyRequest): URLSearchParams {
  const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
  return new URLSearchParams(raw.slice(0, 64 * 1024));
}

/** Only a path on this server: never `//host` or a scheme, so a login cannot redirect away. */
export function safeNext(next: string | null | undefined): string {
  return next && /^\/(?![/\\])[^\s]*$/.test(next) && !next.startsWith('/login') ? next : '/runs';
}

export async function registerConsole(app: FastifyInstance, d: ConsoleDeps): Promise<void> {
  await app.register(fastifyCookie);
  await app.after();
  // API requests without a bearer token may use the console's session (CSRF-checked on POST).
  app.addHook('onRequest', async (req) => {
    if (req.url.startsWith('/api/') && req.headers.authorization === undefined) await d.sessions.resolve(req);
  });

  const send = (
    reply: FastifyReply,
    status: number,
    title: string,
    who: ConsoleSession | null,
    section: Section,
    body: ReturnType<typeof html>,
    scripts?: string[],
  ) =>
    reply
      .code(status)
      .headers(PAGE_HEADERS)
      .type('text/html; charset=utf-8')
      .send(page({ title, who, csrf: who?.csrf ?? null, section, body, scripts }));

  /** The session, or a redirect to the login page (null: the reply is sent). */
  const session = async (req: FastifyRequest, reply: FastifyReply): Promise<ConsoleSession | null> => {
    const s = await d.sessions.get(req);
    if (s) return s;
    await reply
      .code(303)
      .header('location', `/login?next=${encodeURIComponent(req.url)}`)
      .send();
    return null;
  };

  const notFound = (reply: FastifyReply, who: ConsoleSession, what: string) => send(reply, 404, 'Not found', who, null, html`<h1>Not found</h1><p>${what}</p>`);

  app.get('/', async (_req, reply) => reply.code(303).header('location', '/runs').send());

  app.get<{ Params: { name: string } }>('/assets/:name', async (req, reply) => {
    const a = asset(req.params.name);
    if (!a) return reply.code(404).send({ error: `no asset ${JSON.stringify(req.params.name.slice(0, 64))}` });
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    reply.headers({ 'content-type': a.type, 'cache-control': 'public, max-age=3600', 'x-content-type-options': 'nosniff', vary: 'accept-encoding' });
    if (gzip) reply.header('content-encoding', 'gzip');
    return reply.send(gzip ? a.gzip : a.raw);
  });

  app.get<{ Querystring: { next?: string; error?: string } }>('/login', async (req, reply) => {
    const csrf = d.sessions.loginToken(req, reply);
    return send(reply, 200, 'Log in', null, null, loginPage({ csrf, next: safeNext(req.query.next), error: null }));
  });

  app.post('/login', async (req, reply) => {
    const f = form(req);
    try {
      d.sessions.checkLoginToken(req, f.get('_csrf') ?? undefined);
    } catch (err) {
      const csrf = d.sessions.loginToken(req, reply);
      return send(reply, 403, 'Log in', null, null, loginPage({ csrf, next: safeNext(f.get('next')), error: (err as Error).message }));
    }
    const wait = await d.sessions.loginBlockedFor(req.ip);
    if (wait > 0) {
      const csrf = d.sessions.loginToken(req, reply);
      reply.header('retry-after', String(wait));
      return send(
        reply,
        429,
        'Log in',
        null,
        null,
        loginPage({ csrf, next: safeNext(f.get('next')), error: `Too many failed logins from ${req.ip}: try again in ${Math.ceil(wait / 60)} min.` }),
      );
    }
    const principal = d.sessions.principalForToken(f.get('token') ?? '');
    if (!principal) {
      await d.sessions.loginFailed(req.ip);
      d.log(`remedy: console: failed login from ${req.ip}`);
      const csrf = d.sessions.loginToken(req, reply);
      return send(
        reply,
        401,
        'Log in',
        null,
        null,
        loginPage({ csrf, next: safeNext(f.get('next')), error: 'That token is not a viewer, operator or admin token of this policy.' }),
      );
    }
    const { id } = await d.sessions.create(principal);
    d.sessions.setSessionCookie(reply, id);
    d.log(`remedy: console: ${principal.name} (${principal.role}) logged in from ${req.ip}`);
    return reply
      .code(303)
      .header('location', safeNext(f.get('next')))
      .send();
  });

  app.post('/logout', async (req, reply) => {
    const s = await d.sessions.get(req);
    if (s) {
      d.sessions.checkCsrf(req, s, form(req).get('_csrf') ?? undefined);
      await d.sessions.destroy(req);
    }
    d.sessions.clearSessionCookie(reply);
    return reply.code(303).header('location', '/login').send();
  });

  app.get<{ Querystring: Record<string, string> }>('/runs', async (req, reply) => {
    const who = await session(req, reply);
    if (!who) return reply;
    const f = readFilter(req.query);
    const since = f.since ? Date.now() - (SINCE_CHOICES[f.since] as number) : undefined;
    let runs = await d.store.list({ outcome: f.outcome || undefined, runbook: f.runbook || undefined, host: f.host || undefined, since, limit: 200 });
    if (f.attention) runs = runs.filter(needsPeople);
    if (req.query['part'] === 'list') return reply.headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(runsList(runs).value);
    const runbooks = [...new Set(d.policy.routes.map((r) => r.runbook))].sort();
    return send(reply, 200, 'Runs', who, 'runs', runsPage(runs, f, runbooks));
  });

  const loadRun = async (id: string): Promise<{ run: RunRecord; events: Awaited<ReturnType<RunStore['events']>> } | null> => {
    const run = await d.store.get(id);
    if (!run) return null;
    return { run, events: await d.store.events(run.id) };
  };

  app.get<{ Params: { id: string } }>('/runs/:id', async (req, reply) => {
    const who = await session(req, reply);
    if (!who) return reply;
    const r = await loadRun(req.params.id);
    if (!r) return notFound(reply, who, `No run ${req.params.id}.`);
    return send(
      reply,
      200,
      `${r.run.runbook} ${r.run.id}`,
      who,
      'runs',
      runPage(
        r.run,
        r.events.map((e) => e.event),
        who,
      ),
    );
  });

  /** What console.js fetches while a run goes on: the live section, and the panel when its wait changed. */
  app.get<{ Params: { id: string }; Querystring: { panel?: string } }>('/runs/:id/live', async (req, reply) => {
    const who = await d.sessions.get(req);
    if (!who) return reply.code(401).send({ error: 'not logged in' });
    const r = await loadRun(req.params.id);
    if (!r) return reply.code(404).send({ error: `no run ${req.params.id.slice(0, 128)}` });
    const events = r.events.map((e) => e.event);
    const key = panelKey(r.run.approval);
    return reply.header('cache-control', 'no-store').send({
      outcome: r.run.outcome,
      final: FINAL_OUTCOMES.includes(r.run.outcome),
      live: liveSection(r.run, events).value,
      panelKey: key,
      panel: req.query.panel === key ? null : approvalPanel(r.run, events, who).value,
    });
  });

  /** The report (at files/) and the run directory's outputs and artifacts, on the machine that ran it. */
  app.get<{ Params: { id: string; '*': string } }>('/runs/:id/files/*', async (req, reply) => {
    const who = await session(req, reply);
    if (!who) return reply;
    const r = await loadRun(req.params.id);
    if (!r) return notFound(reply, who, `No run ${req.params.id}.`);
    const rel = req.params['*'];
    if (rel === '' || rel === 'report.html') {
      const events = r.events.map((e) => e.event);
      if (events.length === 0) return notFound(reply, who, `Run ${r.run.id} has no journal (${r.run.outcome}).`);
      return reply
        .headers({ ...PAGE_HEADERS, 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'" })
        .type('text/html; charset=utf-8')
        .send(renderReport(buildReportModel(events, { runDir: r.run.runDir ?? undefined }), 'html'));
    }
    const runDir = r.run.runDir;
    if (!/^(outputs|artifacts)\/[^\0]+$/.test(rel) || rel.split('/').some((p) => p === '..' || p === '.' || p === ''))
      return notFound(reply, who, `No file ${rel}.`);
    if (!runDir || !existsSync(join(runDir, rel)))
      return notFound(reply, who, `${rel} is not on this server (the run directory is on the worker that ran it${r.run.worker ? `, ${r.run.worker}` : ''}).`);
    // Symlinks must not lead out of the run directory.
    const real = realpathSync(join(runDir, rel));
    if (!real.startsWith(realpathSync(runDir) + sep) || !statSync(real).isFile()) return notFound(reply, who, `No file ${rel}.`);
    const name = rel.split('/').pop() as string;
    return reply
      .headers({
        'content-type': 'application/octet-stream',
        'content-disposition': `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
      })
      .send(createReadStream(real));
  });

  app.get('/runbooks', async (req, reply) => {
    const who = await session(req, reply);
    if (!who) return reply;
    return send(reply, 200, 'Runbooks', who, 'runbooks', cataloguePage(catalogue(d.policy)));
  });

  app.get<{ Params: { name: string }; Querystring: Record<string, string> }>('/runbooks/:name', async (req, reply) => {
    const who = await session(req, reply);
    if (!who) return reply;
    const entry = catalogue(d.policy).find((e) => e.name === req.params.name);
    if (!entry) return notFound(reply, who, `No runbook ${req.params.name}.`);
    return send(reply, 200, entry.name, who, 'runbooks', runbookPage(entry, who, readPlanRequest(req.query)), ['/assets/mermaid.min.js']);
  });

  app.get('/policy', async (req, reply) => {
    const who = await session(req, reply);
    if (!who) return reply;
    const budgets: BudgetUse[] = [];
    const seen = new Set<string>();
    for (const run of await d.store.list({ limit: 1000 })) {
      const id = run.decision.scopeId;
      const route = d.policy.routes.find((r) => routeName(d.policy, r) === run.decision.route);
      if (!id || !route?.budget || seen.has(id)) continue;
      seen.add(id);
      const used = await d.safety.budgetUsed(route, id);
      if (used > 0) budgets.push({ route: routeName(d.policy, route), scope: run.decision.scope ?? id, used, max: route.budget.max, per: route.budget.per });
    }
    return send(reply, 200, 'Policy', who, 'policy', policyPage(d.policy, budgets, await d.safety.breakers(), who));
  });
}
