// Malformed and hostile webhook bodies and failed authentication: each gets the right status
// code with a reason, nothing is enqueued, and the server keeps serving afterwards.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertmanager, AUTH_YAML, cleanup, serve, TOKENS, workspace, type TestServe, type Workspace } from './helpers.js';

let ws: Workspace;
let s: TestServe;

beforeAll(async () => {
  ws = workspace();
  // No worker serves this queue: whatever gets through stays queued, and is counted.
  s = await serve(
    ws,
    `${AUTH_YAML}routes:\n  - { match: { alertname: Stuck }, runbook: ${ws.runbook}, inventory: ${ws.inventory}, params: { root: "/tmp/x" }, queue: parked }\n  - { match: { service: checkout }, runbook: ${ws.runbook}, inventory: ${ws.inventory}, params: { root: "/tmp/x" }, queue: parked }\n`,
    { work: [] },
  );
}, 60_000);

afterAll(async () => {
  await s?.close();
  if (ws) cleanup(ws.dir);
});

const good = JSON.stringify(alertmanager({ alertname: 'Stuck' }, 'firing', 'fp-good'));
const sign = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex');
const json = { 'content-type': 'application/json' };
const pd = (eventType: string, id = 'PABC123') =>
  JSON.stringify({
    event: {
      id: 'e1',
      event_type: eventType,
      resource_type: 'incident',
      occurred_at: '2026-11-29T10:00:00Z',
      data: { id, type: 'incident', title: 'Checkout 502', service: { id: 'S1', summary: 'checkout' }, urgency: 'high' },
    },
  });
const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;

interface Case {
  name: string;
  path?: string;
  method?: string;
  token?: string | null;
  headers?: Record<string, string>;
  raw?: string;
  status: number;
  error?: RegExp;
}

const cases: Case[] = [
  // Authentication
  { name: 'no credentials', token: null, headers: json, raw: good, status: 401 },
  { name: 'wrong bearer token', token: 'nope', headers: json, raw: good, status: 401 },
  { name: 'viewer token on a hook', token: TOKENS.viewer, headers: json, raw: good, status: 401 },
  { name: 'operator token on a hook', token: TOKENS.operator, headers: json, raw: good, status: 401 },
  {
    name: 'Basic auth',
    token: null,
    headers: { ...json, authorization: `Basic ${Buffer.from(`x:${TOKENS.hook}`).toString('base64')}` },
    raw: good,
    status: 401,
  },
  { name: 'empty bearer', token: null, headers: { ...json, authorization: 'Bearer ' }, raw: good, status: 401 },
  { name: 'token with a suffix', token: `${TOKENS.hook}x`, headers: json, raw: good, status: 401 },
  { name: 'HMAC over another body', token: null, headers: { ...json, 'x-remedy-signature': `sha256=${sign(TOKENS.hmac, '{}')}` }, raw: good, status: 401 },
  { name: 'HMAC malformed', token: null, headers: { ...json, 'x-remedy-signature': 'sha256=zz' }, raw: good, status: 401 },
  { name: 'HMAC with a bearer secret', token: null, headers: { ...json, 'x-remedy-signature': `sha256=${sign(TOKENS.hook, good)}` }, raw: good, status: 401 },
  {
    name: 'PagerDuty signature wrong',
    path: '/hooks/pagerduty',
    token: null,
    headers: { ...json, 'x-pagerduty-signature': `v1=${sign('other', pd('incident.triggered'))}` },
    raw: pd('incident.triggered'),
    status: 401,
  },
  {
    name: 'PagerDuty signature from the HMAC secret',
    path: '/hooks/pagerduty',
    token: null,
    headers: { ...json, 'x-pagerduty-signature': `v1=${sign(TOKENS.hmac, pd('incident.triggered'))}` },
    raw: pd('incident.triggered'),
    status: 401,
  },
  { name: 'unauthenticated garbage gets 401, not 400', token: null, headers: json, raw: '{{{', status: 401 },
  { name: 'hook token on the API', path: '/api/runs', method: 'GET', token: TOKENS.hook, status: 401 },
  { name: 'no token on the API', path: '/api/runs', method: 'GET', token: null, status: 401 },
  { name: 'viewer starting a run', path: '/api/runs', token: TOKENS.viewer, headers: json, raw: JSON.stringify({ runbook: 'svc-fix' }), status: 403 },
  // Malformed bodies (authenticated)
  { name: 'not JSON', headers: json, raw: '{"version": "4",', status: 400, error: /^body is not JSON/ },
  { name: 'empty body', headers: json, raw: '', status: 400, error: /^empty body/ },
  { name: 'a JSON array', headers: json, raw: '[]', status: 400, error: /Alertmanager/ },
  { name: 'JSON null', headers: json, raw: 'null', status: 400 },
  { name: 'a bare string', headers: json, raw: '"firing"', status: 400 },
  { name: 'webhook version 3', headers: json, raw: good.replace('"version":"4"', '"version":"3"'), status: 400, error: /version/ },
  { name: 'no alerts', headers: json, raw: JSON.stringify({ version: '4', status: 'firing', alerts: [] }), status: 400, error: /alerts/ },
  { name: 'alerts not a list', headers: json, raw: JSON.stringify({ version: '4', status: 'firing', alerts: { a: 1 } }), status: 400, error: /alerts/ },
  {
    name: 'a label value that is a number',
    headers: json,
    raw: JSON.stringify({ version: '4', status: 'firing', alerts: [{ status: 'firing', labels: { alertname: 5 } }] }),
    status: 400,
    error: /labels/,
  },
  {
    name: 'a label name with a space',
    headers: json,
    raw: JSON.stringify({ version: '4', status: 'firing', alerts: [{ status: 'firing', labels: { 'alert name': 'x' } }] }),
    status: 400,
  },
  {
    name: 'a fingerprint with a path in it',
    headers: json,
    raw: JSON.stringify(alertmanager({ alertname: 'Stuck' }, 'firing', '../../etc/passwd')),
    status: 400,
    error: /fingerprint/,
  },
  { name: 'a fingerprint with a colon', headers: json, raw: JSON.stringify(alertmanager({ alertname: 'Stuck' }, 'firing', 'a:b')), status: 400 },
  { name: 'an unknown status', headers: json, raw: good.replaceAll('"firing"', '"exploded"'), status: 400, error: /status/ },
  {
    name: '__proto__ in labels',
    headers: json,
    raw: '{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"__proto__":{"polluted":"yes"}}}]}',
    status: 400,
    error: /__proto__/,
  },
  {
    name: '1001 alerts',
    headers: json,
    raw: JSON.stringify({
      version: '4',
      status: 'firing',
      alerts: Array.from({ length: 1001 }, (_, i) => ({ status: 'firing', labels: { alertname: 'Stuck', i: String(i) } })),
    }),
    status: 400,
  },
  { name: 'a 5000-character label value', headers: json, raw: JSON.stringify(alertmanager({ alertname: 'x'.repeat(5000) })), status: 400 },
  { name: 'nesting 100000 deep', headers: json, raw: deep, status: 400 },
  { name: 'text/plain', headers: { 'content-type': 'text/plain' }, raw: good, status: 415 },
  { name: 'no content type', raw: good, status: 415 },
  { name: 'a body over 1 MiB', headers: json, raw: JSON.stringify({ pad: 'x'.repeat(1_100_000) }), status: 413 },
  { name: 'an unknown intake', path: '/hooks/nagios', headers: json, raw: good, status: 404 },
  { name: 'GET on a hook', path: '/hooks/alertmanager', method: 'GET', status: 404 },
  {
    name: 'generic alert without labels',
    path: '/hooks/generic',
    headers: json,
    raw: JSON.stringify({ status: 'firing', labels: {} }),
    status: 400,
    error: /labels/,
  },
  {
    name: 'PagerDuty body without event (signed)',
    path: '/hooks/pagerduty',
    token: null,
    headers: { ...json, 'x-pagerduty-signature': `v1=${sign(TOKENS.pagerduty, '{"x":1}')}` },
    raw: '{"x":1}',
    status: 400,
    error: /PagerDuty/,
  },
  {
    name: 'approval on a run that does not exist',
    path: '/api/runs/nope/approvals',
    token: TOKENS.operator,
    headers: json,
    raw: JSON.stringify({ step: 's', decision: 'approved', planHash: 'sha256:1' }),
    status: 404,
  },
  {
    name: 'approval with a made-up decision',
    path: '/api/runs/nope/approvals',
    token: TOKENS.operator,
    headers: json,
    raw: JSON.stringify({ step: 's', decision: 'yes please', planHash: 'sha256:1' }),
    status: 400,
    error: /decision/,
  },
  { name: 'a run id with dots', path: '/api/runs/..%2F..%2Fetc', method: 'GET', token: TOKENS.viewer, status: 404 },
  { name: 'limit that is not a number', path: '/api/runs?limit=lots', method: 'GET', token: TOKENS.viewer, status: 400 },
  { name: 'a report format that does not exist', path: '/api/runs/nope/report?format=pdf', method: 'GET', token: TOKENS.viewer, status: 404 },
  { name: 'resetting a breaker that is not a breaker id', path: '/api/breakers/$(reboot)/reset', method: 'POST', token: TOKENS.admin, status: 404 },
];

describe('hostile and malformed requests', { timeout: 60_000 }, () => {
  it(`${cases.length} requests get the right status codes, nothing is enqueued, and the server keeps serving`, async () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    const results: string[] = [];
    for (const c of cases) {
      const r = await s.call(c.path ?? '/hooks/alertmanager', {
        method: c.method ?? (c.raw !== undefined ? 'POST' : 'GET'),
        token: c.token === undefined ? TOKENS.hook : c.token,
        headers: c.headers,
        raw: c.raw,
      });
      const ok =
        r.status === c.status && (c.error === undefined || c.error.test(String(r.json?.error))) && (r.status < 400 || typeof r.json?.error === 'string');
      if (!ok) results.push(`${c.name}: got ${r.status} ${r.text.slice(0, 200)}`);
      if (r.status === 401 && c.path?.startsWith('/api') !== true) expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect(results).toEqual([]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    // Nothing got in.
    expect((await s.call('/api/runs', { token: TOKENS.viewer })).json.runs).toEqual([]);
    // Still serving: health, and a well-formed alert is accepted.
    expect((await s.call('/healthz', { token: null })).json).toEqual({ status: 'ok' });
    const accepted = await s.call('/hooks/alertmanager', { token: TOKENS.hook, headers: json, raw: good });
    expect(accepted.status).toBe(202);
    expect(accepted.json.results[0]).toMatchObject({ action: 'enqueued' });
  });

  it('HMAC-signed generic alerts and signed PagerDuty V3 webhooks are accepted', async () => {
    const body = JSON.stringify({ status: 'firing', labels: { alertname: 'Stuck', via: 'hmac' } });
    const r = await s.call('/hooks/generic', { token: null, headers: { ...json, 'x-remedy-signature': `sha256=${sign(TOKENS.hmac, body)}` }, raw: body });
    expect(r.status).toBe(202);
    expect(r.json.results[0]).toMatchObject({ action: 'enqueued', fingerprint: expect.stringMatching(/^[0-9a-f]{32}$/) });

    const trig = pd('incident.triggered');
    // A secret rotation: two signatures, the second valid.
    const p = await s.call('/hooks/pagerduty', {
      token: null,
      headers: { ...json, 'x-pagerduty-signature': `v1=${sign('old', trig)},v1=${sign(TOKENS.pagerduty, trig)}` },
      raw: trig,
    });
    expect(p.status).toBe(202);
    expect(p.json.results).toEqual([{ fingerprint: 'PABC123', action: 'enqueued', run: expect.any(String) }]);
    const run = (await s.call(`/api/runs/${p.json.results[0].run}`, { token: TOKENS.viewer })).json;
    expect(run.alert).toMatchObject({ source: 'pagerduty', labels: { incident_id: 'PABC123', service: 'checkout', alertname: 'Checkout 502' } });
    const ack = pd('incident.acknowledged');
    expect(
      (await s.call('/hooks/pagerduty', { token: null, headers: { ...json, 'x-pagerduty-signature': `v1=${sign(TOKENS.pagerduty, ack)}` }, raw: ack })).json,
    ).toEqual({ results: [] });
    const res = pd('incident.resolved');
    const resolved = await s.call('/hooks/pagerduty', {
      token: null,
      headers: { ...json, 'x-pagerduty-signature': `v1=${sign(TOKENS.pagerduty, res)}` },
      raw: res,
    });
    expect(resolved.json.results[0]).toMatchObject({ action: 'cancelled', run: p.json.results[0].run });
  });
});
