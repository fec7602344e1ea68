// The web console over HTTP against a real `remedy serve` (embedded redis-server): token login
// gives an HttpOnly SameSite=Strict session cookie; pages need it; the session stands in for a
// bearer token on the API only with its CSRF token; a viewer cannot approve; an operator's
// approval through the session is recorded in the journal under the operator's name.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIX_RUNBOOK, alertmanager, AUTH_YAML, cleanup, serve, TOKENS, until, workspace, type TestServe, type Workspace } from '../helpers.js';

let ws: Workspace;
let s: TestServe;

/** The fix runbook over three hosts, its fix in rolling batches of one. */
function rolling(): { runbook: string; inventory: string } {
  const runbook = join(ws.dir, 'svc-roll.yaml');
  writeFileSync(runbook, FIX_RUNBOOK.replace('name: svc-fix', 'name: svc-roll').replace('    mutates: true\n', '    mutates: true\n    serial: 1\n'));
  const inventory = join(ws.dir, 'three.yaml');
  writeFileSync(
    inventory,
    'all:\n  hosts:\n    local1: { ansible_connection: local }\n    local2: { ansible_connection: local }\n    local3: { ansible_connection: local }\n',
  );
  return { runbook, inventory };
}

function policy(): string {
  const roll = rolling();
  return `${AUTH_YAML}maintenance:
  - { name: freeze, match: { alertname: Frozen }, start: "2000-01-01T00:00:00Z", end: "2999-01-01T00:00:00Z" }
routes:
  - name: approve
    match: { alertname: StuckApprove }
    runbook: ${ws.runbook}
    inventory: ${ws.inventory}
    params: { root: "{{ labels.root }}" }
    mode: approve
    budget: { max: 5, per: 1h }
  - name: fix
    match: { alertname: Stuck }
    runbook: ${ws.runbook}
    inventory: ${ws.inventory}
    params: { root: "{{ labels.root }}" }
    mode: auto
    breaker: { window: 1h }
  - name: rolling
    match: { alertname: StuckRolling }
    runbook: ${roll.runbook}
    inventory: ${roll.inventory}
    params: { root: "{{ labels.root }}" }
    mode: approve
`;
}

interface Browser {
  cookie: string;
  csrf: string;
}

async function raw(path: string, init: { method?: string; cookie?: string; body?: string; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${s.url}${path}`, {
    method: init.method ?? 'GET',
    redirect: 'manual',
    headers: { ...(init.cookie ? { cookie: init.cookie } : {}), ...(init.headers ?? {}) },
    body: init.body,
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

const cookiesOf = (h: Headers): string[] => h.getSetCookie();

async function login(token: string): Promise<Browser & { setCookie: string }> {
  const form = await raw('/login');
  const loginCookie = (cookiesOf(form.headers)[0] ?? '').split(';')[0] as string;
  const field = /name="_csrf" value="([^"]+)"/.exec(form.text)?.[1] as string;
  const r = await raw('/login', {
    method: 'POST',
    cookie: loginCookie,
    body: new URLSearchParams({ _csrf: field, token, next: '/runs' }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  expect(r.status).toBe(303);
  const setCookie = cookiesOf(r.headers).find((c) => c.startsWith('remedy_session=')) as string;
  const cookie = setCookie.split(';')[0] as string;
  const page = await raw('/runs', { cookie });
  const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(page.text)?.[1] as string;
  return { cookie, csrf, setCookie };
}

const approvalBody = (run: any, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ step: run.approval.step, planHash: run.approval.planHash, decision: 'approved', ...extra });

beforeAll(async () => {
  ws = workspace();
  s = await serve(ws, policy(), { work: ['default'] });
}, 60_000);

afterAll(async () => {
  await s?.close();
  if (ws) cleanup(ws.dir);
});

describe('web console over HTTP', { timeout: 90_000 }, () => {
  it('pages need a login; the token login sets an HttpOnly SameSite=Strict cookie and a bad token is refused', async () => {
    const anon = await raw('/runs');
    expect(anon.status).toBe(303);
    expect(anon.headers.get('location')).toBe('/login?next=%2Fruns');
    expect((await raw('/api/runs')).status).toBe(401);
    const b = await login(TOKENS.operator);
    expect(b.setCookie).toMatch(/HttpOnly/i);
    expect(b.setCookie).toMatch(/SameSite=Strict/i);
    expect(b.setCookie).toMatch(/Path=\//);
    const page = await raw('/runs', { cookie: b.cookie });
    expect(page.status).toBe(200);
    expect(page.text).toContain('alice');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    // The cookie session also reads the API.
    expect((await raw('/api/runs', { cookie: b.cookie })).status).toBe(200);

    const form = await raw('/login');
    const loginCookie = (cookiesOf(form.headers)[0] ?? '').split(';')[0] as string;
    const field = /name="_csrf" value="([^"]+)"/.exec(form.text)?.[1] as string;
    const post = (body: Record<string, string>, cookie = loginCookie) =>
      raw('/login', { method: 'POST', cookie, body: new URLSearchParams(body).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const wrong = await post({ _csrf: field, token: 'not-a-token' });
    expect(wrong.status).toBe(401);
    expect(cookiesOf(wrong.headers).some((c) => c.startsWith('remedy_session='))).toBe(false);
    // A hook token cannot log in to the console.
    expect((await post({ _csrf: field, token: TOKENS.hook })).status).toBe(401);
    // Login CSRF: without the form's token (or with another), refused even with a good token.
    expect((await post({ token: TOKENS.operator })).status).toBe(403);
    expect((await post({ _csrf: 'x'.repeat(43), token: TOKENS.operator })).status).toBe(403);
    // An open redirect through next= is refused: it lands on /runs.
    const r = await post({ _csrf: field, token: TOKENS.viewer, next: '//evil.example/' });
    expect(r.headers.get('location')).toBe('/runs');
  });

  it('an approval needs the CSRF token, a viewer is refused, and the journal names the operator who approved', async () => {
    const root = ws.target('c1', 'STUCK');
    const posted = await s.call('/hooks/alertmanager', {
      token: TOKENS.hook,
      body: alertmanager({ alertname: 'StuckApprove', root }, 'firing', 'fp-console-1'),
    });
    const id = posted.json.results[0].run as string;
    const waiting = await until('the approval wait', async () => {
      const r = (await s.call(`/api/runs/${id}`)).json;
      return r.approval ? r : null;
    });
    const op = await login(TOKENS.operator);
    const viewer = await login(TOKENS.viewer);

    const page = await raw(`/runs/${id}`, { cookie: op.cookie });
    expect(page.text).toContain('Approval needed');
    expect(page.text).toContain(waiting.approval.planHash);
    expect(page.text).toContain(`echo OK &gt; ${root}/state`);
    const viewerPage = await raw(`/runs/${id}`, { cookie: viewer.cookie });
    expect(viewerPage.text).not.toContain('<form class="approve"');
    expect(viewerPage.text).toContain('only an operator or admin can approve');

    const url = `/api/runs/${id}/approvals`;
    const json = { 'content-type': 'application/json' };
    // No CSRF token: refused before the route runs.
    const noCsrf = await raw(url, { method: 'POST', cookie: op.cookie, body: approvalBody(waiting), headers: json });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.text).toContain('CSRF');
    // Another session's token does not do either.
    expect((await raw(url, { method: 'POST', cookie: op.cookie, body: approvalBody(waiting), headers: { ...json, 'x-csrf-token': viewer.csrf } })).status).toBe(
      403,
    );
    // A cross-origin page cannot post even with the token.
    expect(
      (
        await raw(url, {
          method: 'POST',
          cookie: op.cookie,
          body: approvalBody(waiting),
          headers: { ...json, 'x-csrf-token': op.csrf, origin: 'http://evil.example' },
        })
      ).status,
    ).toBe(403);
    // A viewer with a valid session and token: the role refuses it.
    const byViewer = await raw(url, { method: 'POST', cookie: viewer.cookie, body: approvalBody(waiting), headers: { ...json, 'x-csrf-token': viewer.csrf } });
    expect(byViewer.status).toBe(403);
    expect(byViewer.text).toContain('needs operator');
    expect((await s.call(`/api/runs/${id}`)).json.approval).not.toBeNull();
    // No session at all.
    expect((await raw(url, { method: 'POST', body: approvalBody(waiting), headers: json })).status).toBe(401);

    const ok = await raw(url, { method: 'POST', cookie: op.cookie, body: approvalBody(waiting), headers: { ...json, 'x-csrf-token': op.csrf } });
    expect(ok.status).toBe(202);
    expect(JSON.parse(ok.text)).toMatchObject({ decision: 'approved', operator: 'alice' });
    const done = await until('the run to end', async () => {
      const r = (await s.call(`/api/runs/${id}`)).json;
      return ['resolved', 'failed', 'escalated', 'refused'].includes(r.outcome) ? r : null;
    });
    expect(done.outcome).toBe('resolved');
    const report = JSON.parse((await raw(`/api/runs/${id}/report?format=json`, { cookie: op.cookie })).text);
    const approvals = report.approvals ?? report.result?.approvals;
    expect(JSON.stringify(approvals)).toContain('alice');
    const events = (await raw(`/api/runs/${id}/events`, { cookie: op.cookie })).text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)));
    const approval = events.find((e) => e.type === 'approval');
    expect(approval).toMatchObject({ decision: 'approved', operator: 'alice', planHash: waiting.approval.planHash, hosts: ['local1'] });
    expect(Date.parse(approval.time)).toBeGreaterThan(Date.parse(waiting.approval.requestedAt) - 1);

    // The run's files: the report as HTML at files/, outputs as downloads, nothing outside the run directory.
    const reportPage = await raw(`/runs/${id}/files/`, { cookie: op.cookie });
    expect(reportPage.status).toBe(200);
    expect(reportPage.text).toMatch(/^<!doctype html>/i);
    expect(reportPage.headers.get('content-security-policy')).toContain("default-src 'none'");
    const output = events.find((e) => e.type === 'host-end' && e.outputs)?.outputs.stdout as string;
    expect(output).toMatch(/^outputs\//);
    const file = await raw(`/runs/${id}/files/${output}`, { cookie: op.cookie });
    expect(file.status).toBe(200);
    expect(file.headers.get('content-disposition')).toMatch(/^attachment; filename="/);
    expect(file.headers.get('content-type')).toBe('application/octet-stream');
    for (const bad of ['outputs/../inputs.json', 'outputs/%2e%2e/inputs.json', 'journal.jsonl', 'outputs/../../../../etc/passwd', 'artifacts/']) {
      expect((await raw(`/runs/${id}/files/${bad}`, { cookie: op.cookie })).status, bad).toBe(404);
    }
    expect((await raw(`/runs/${id}/files/${output}`)).status).toBe(303);
  });

  it('"approve this and the remaining batches": one answer, every batch runs and is journaled with the operator', async () => {
    const root = ws.target('roll', 'STUCK');
    const posted = await s.call('/hooks/alertmanager', {
      token: TOKENS.hook,
      body: alertmanager({ alertname: 'StuckRolling', root }, 'firing', 'fp-console-roll'),
    });
    const id = posted.json.results[0].run as string;
    const waiting = await until('the approval wait', async () => {
      const r = (await s.call(`/api/runs/${id}`)).json;
      return r.approval ? r : null;
    });
    expect(waiting.approval).toMatchObject({ step: 'unstick', batch: 1, batchCount: 3, hosts: ['local1'] });
    const op = await login(TOKENS.operator);
    expect((await raw(`/runs/${id}`, { cookie: op.cookie })).text).toContain('Approve this and the remaining batches');
    const ok = await raw(`/api/runs/${id}/approvals`, {
      method: 'POST',
      cookie: op.cookie,
      body: approvalBody(waiting, { remaining: true }),
      headers: { 'content-type': 'application/json', 'x-csrf-token': op.csrf },
    });
    expect(ok.status).toBe(202);
    const done = await until('the run to end', async () => {
      const r = (await s.call(`/api/runs/${id}`)).json;
      return ['queued', 'running'].includes(r.outcome) ? null : r;
    });
    expect(done).toMatchObject({ outcome: 'resolved', hosts: { local1: 'ok', local2: 'ok', local3: 'ok' } });
    const events = (await raw(`/api/runs/${id}/events`, { cookie: op.cookie })).text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)));
    const approvals = events.filter((e) => e.type === 'approval');
    expect(approvals.map((a) => [a.batch, a.hosts, a.operator, a.decision])).toEqual([
      [1, ['local1'], 'alice', 'approved'],
      [2, ['local2'], 'alice', 'approved'],
      [3, ['local3'], 'alice', 'approved'],
    ]);
  });

  it('the policy page shows an open breaker; only an admin session resets it (with its CSRF token)', async () => {
    const root = ws.target('brk', 'STUCK');
    const alert = (status: 'firing' | 'resolved') =>
      s.call('/hooks/alertmanager', { token: TOKENS.hook, body: alertmanager({ alertname: 'Stuck', root }, status, 'fp-console-brk') });
    const first = (await alert('firing')).json.results[0].run as string;
    const firstRun = await until('the first run to end', async () => {
      const r = (await s.call(`/api/runs/${first}`)).json;
      return ['queued', 'running'].includes(r.outcome) ? null : r;
    });
    expect(firstRun).toMatchObject({ outcome: 'resolved' });
    await alert('resolved');
    const again = (await alert('firing')).json.results[0];
    expect(again).toMatchObject({ action: 'refused', reason: expect.stringContaining('breaker tripped') });
    const [breaker] = (await s.call('/api/breakers')).json.breakers;
    const admin = await login(TOKENS.admin);
    const op = await login(TOKENS.operator);
    const adminPage = (await raw('/policy', { cookie: admin.cookie })).text;
    expect(adminPage).toContain(`data-reset-breaker="${breaker.id}"`);
    expect(adminPage).toContain(`href="/runs/${first}"`);
    const opPage = (await raw('/policy', { cookie: op.cookie })).text;
    expect(opPage).not.toContain('data-reset-breaker');
    expect(opPage).toContain('Only an admin can reset it.');
    const reset = (b: { cookie: string }, csrf?: string) =>
      raw(`/api/breakers/${breaker.id}/reset`, { method: 'POST', cookie: b.cookie, headers: csrf ? { 'x-csrf-token': csrf } : {} });
    expect((await reset(op, op.csrf)).status).toBe(403);
    expect((await reset(admin)).status).toBe(403);
    expect((await s.call('/api/breakers')).json.breakers).toHaveLength(1);
    const ok = await reset(admin, admin.csrf);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.text)).toMatchObject({ reset: true, by: 'root' });
    expect((await raw('/policy', { cookie: admin.cookie })).text).toContain('No breaker is open');
  });

  it('after 10 failed logins from one address, even a good token waits (429 with Retry-After)', async () => {
    const form = await raw('/login');
    const loginCookie = (cookiesOf(form.headers)[0] ?? '').split(';')[0] as string;
    const field = /name="_csrf" value="([^"]+)"/.exec(form.text)?.[1] as string;
    const post = (token: string) =>
      raw('/login', {
        method: 'POST',
        cookie: loginCookie,
        body: new URLSearchParams({ _csrf: field, token }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
    const redis = new Redis({ path: s.redisSocket as string, lazyConnect: true });
    const clear = async () => {
      const keys = await redis.keys('remedy:console:login-failures:*');
      if (keys.length > 0) await redis.del(...keys);
    };
    await clear();
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await post(`guess-${i}`)).status);
    expect(statuses).toEqual([...Array(10).fill(401), 429]);
    const good = await post(TOKENS.operator);
    expect(good.status).toBe(429);
    expect(Number(good.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(cookiesOf(good.headers).some((c) => c.startsWith('remedy_session='))).toBe(false);
    // Cleared for the tests after this one (they log in from the same address).
    await clear();
    redis.disconnect();
  });

  it('logout needs the CSRF token and ends the session', async () => {
    const b = await login(TOKENS.admin);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    expect((await raw('/logout', { method: 'POST', cookie: b.cookie, body: '', headers: form })).status).toBe(403);
    expect((await raw('/runs', { cookie: b.cookie })).status).toBe(200);
    const out = await raw('/logout', { method: 'POST', cookie: b.cookie, body: `_csrf=${b.csrf}`, headers: form });
    expect(out.status).toBe(303);
    expect((await raw('/runs', { cookie: b.cookie })).status).toBe(303);
    expect((await raw('/api/runs', { cookie: b.cookie })).status).toBe(401);
  });

  it('serves its assets locally (mermaid from node_modules, gzipped) and the pages render', async () => {
    const b = await login(TOKENS.admin);
    const m = await fetch(`${s.url}/assets/mermaid.min.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toMatch(/javascript/);
    expect((await m.text()).length).toBeGreaterThan(1_000_000);
    expect((await raw('/assets/..%2Fpackage.json')).status).toBe(404);
    for (const path of ['/runbooks', '/policy', '/runs?outcome=resolved&since=24h', '/runbooks/svc-fix']) {
      const p = await raw(path, { cookie: b.cookie });
      expect(p.status, path).toBe(200);
    }
    const rb = await raw(`/runbooks/svc-fix?route=approve&p.root=${encodeURIComponent(ws.target('plan', 'OK'))}`, { cookie: b.cookie });
    expect(rb.text).toContain('Plan for svc-fix');
    expect(rb.text).toContain('<pre class="mermaid"');
    expect(rb.text).toContain('Start run (approve each fix)');
    const pol = await raw('/policy', { cookie: b.cookie });
    expect(pol.text).toContain('freeze');
    expect(pol.text).toMatch(/1 of 5 per 1h/);
  });
});
