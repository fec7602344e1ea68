// Notifications as receivers get them (local HTTP receivers on loopback, a real redis-server, real
// runs on the local transport): an alert that only PagerDuty sends (signed V3 webhook) ends in a
// resolved run notified to a JSON receiver and, in Slack's incoming-webhook shape, to a second
// one; a `plan`-mode route probes only and sends the plan; a receiver that is down costs the run
// nothing.
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertmanager, AUTH_YAML, cleanup, receiver, serve, TOKENS, until, workspace, type TestServe, type Workspace } from './helpers.js';

let ws: Workspace;
let s: TestServe;
let json: Awaited<ReturnType<typeof receiver>>;
let slack: Awaited<ReturnType<typeof receiver>>;
let pdRoot: string;

const PUBLIC = 'https://remedy.example.test';
const sign = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex');
const pdEvent = (eventType: string, id: string) =>
  JSON.stringify({
    event: {
      id: `e-${eventType}`,
      event_type: eventType,
      resource_type: 'incident',
      occurred_at: '2026-11-29T10:00:00Z',
      data: { id, type: 'incident', title: 'Checkout 502', service: { id: 'S1', summary: 'checkout' }, urgency: 'high' },
    },
  });
const postPd = (body: string) =>
  s.call('/hooks/pagerduty', {
    token: null,
    headers: { 'content-type': 'application/json', 'x-pagerduty-signature': `v1=${sign(TOKENS.pagerduty, body)}` },
    raw: body,
  });
const ended = (id: string) =>
  until(`run ${id} to end`, async () => {
    const r = (await s.call(`/api/runs/${id}`, { token: TOKENS.viewer })).json;
    return r && !['queued', 'running'].includes(r.outcome) ? r : null;
  });

beforeAll(async () => {
  ws = workspace();
  json = await receiver();
  slack = await receiver();
  pdRoot = ws.target('pd', 'STUCK');
  s = await serve(
    ws,
    `${AUTH_YAML}public_url: ${PUBLIC}
notify:
  - { name: json, url: "${json.url}", on: [resolved, plan, refused, failed, escalated] }
  - { name: chat, url: "${slack.url}", format: slack, on: [resolved] }
  - { name: down, url: "http://127.0.0.1:9/nobody", on: [resolved, plan] }
routes:
  - name: checkout
    match: { service: checkout }
    runbook: ${ws.runbook}
    inventory: ${ws.inventory}
    params: { root: "${pdRoot}" }
    mode: auto
  - name: preview
    match: { alertname: StuckPlan }
    runbook: ${ws.runbook}
    inventory: ${ws.inventory}
    params: { root: "{{ labels.root }}" }
    mode: plan
`,
    { work: ['default'] },
  );
}, 60_000);

afterAll(async () => {
  await s?.close();
  await json?.close();
  await slack?.close();
  if (ws) cleanup(ws.dir);
});

describe('notifications', { timeout: 90_000 }, () => {
  it('a PagerDuty-only alert: resolved run, notified as JSON and in Slack shape, each with the summary and a link to the run', async () => {
    const posted = await postPd(pdEvent('incident.triggered', 'PNOTIFY1'));
    expect(posted.status).toBe(202);
    const id = posted.json.results[0].run as string;
    const run = await ended(id);
    expect(run).toMatchObject({ outcome: 'resolved', exitCode: 0, cause: 'stuck', alert: { source: 'pagerduty', fingerprint: 'PNOTIFY1' } });
    expect(readFileSync(join(pdRoot, 'state'), 'utf8').trim()).toBe('OK');

    const body = await until('the JSON notification', async () => json.bodies.find((b) => b.run?.id === id && b.event === 'resolved'));
    expect(body).toMatchObject({
      event: 'resolved',
      summary: `${ws.runbook}: resolved (cause stuck): unstuck`,
      link: `${PUBLIC}/api/runs/${id}`,
      console: `${PUBLIC}/runs/${id}`,
      run: {
        id,
        runbook: ws.runbook,
        outcome: 'resolved',
        exitCode: 0,
        cause: 'stuck',
        hosts: { local1: 'ok' },
        alert: { source: 'pagerduty', labels: { incident_id: 'PNOTIFY1', service: 'checkout' } },
      },
    });
    // The evidence: the facts the decision read.
    expect(body.evidence).toMatchObject({
      cause: 'stuck',
      facts: { condition: 'hosts("all").exists(h, h.facts.state == "STUCK")', facts: { local1: { state: 'STUCK' } } },
      outcome: 'unstuck',
    });

    const chat = await until('the Slack notification', async () =>
      slack.bodies.find((b) => typeof b.text === 'string' && b.text.includes(id) === false && b.blocks?.[0]?.text?.text?.includes(id)),
    );
    expect(chat.text).toBe(`remedy: resolved: ${ws.runbook}: resolved (cause stuck): unstuck`);
    expect(chat.blocks[0]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: `*resolved* · ${ws.runbook} · <${PUBLIC}/runs/${id}|run ${id}>\n${ws.runbook}: resolved (cause stuck): unstuck` },
    });
    expect(chat.blocks[1].text.text).toMatch(/^```[\s\S]*"state": "STUCK"[\s\S]*```$/);
    // Slack gets only the events it listens for; the unreachable receiver was only logged.
    expect(slack.bodies.every((b) => b.text.startsWith('remedy: resolved: '))).toBe(true);
    expect(s.logs.some((l) => l.includes(`notification resolved for run ${id} to down failed`))).toBe(true);

    // PagerDuty resolves the incident: no run starts, nothing more is sent for it.
    const before = json.bodies.length;
    expect((await postPd(pdEvent('incident.resolved', 'PNOTIFY1'))).json.results[0]).toMatchObject({ action: 'resolved' });
    await new Promise((r) => setTimeout(r, 500));
    expect(json.bodies.slice(before).filter((b) => b.run?.alert?.fingerprint === 'PNOTIFY1')).toEqual([]);
  });

  it('plan mode: the run only probes, changes nothing, and the notification carries the plan of what a fix would do', async () => {
    const root = ws.target('plan', 'STUCK');
    const posted = await s.call('/hooks/alertmanager', { token: TOKENS.hook, body: alertmanager({ alertname: 'StuckPlan', root }, 'firing', 'fp-plan') });
    const id = posted.json.results[0].run as string;
    const run = await ended(id);
    expect(run.cause).toBe('stuck');
    expect(readFileSync(join(root, 'state'), 'utf8').trim()).toBe('STUCK');
    expect(existsSync(join(root, 'fixes'))).toBe(false);
    const body = await until('the plan notification', async () => json.bodies.find((b) => b.run?.id === id && b.event === 'plan'));
    expect(body.link).toBe(`${PUBLIC}/api/runs/${id}`);
    expect(body.run.decision).toMatchObject({ mode: 'plan', route: 'preview' });
    expect(body.evidence.cause).toBe('stuck');
    // The plan: the probe stopped before the first mutation, with what it would have run where.
    expect(body.evidence.plan).toMatchObject({ stoppedAt: 'unstick' });
    const preview = body.evidence.plan.steps.find((p: { id?: string; step?: string }) => (p.id ?? p.step) === 'unstick');
    expect(JSON.stringify(preview)).toContain(`echo OK > ${root}/state`);
    // No resolved notification for a plan-mode run: nothing was fixed.
    expect(json.bodies.some((b) => b.run?.id === id && b.event === 'resolved')).toBe(false);
    expect(slack.bodies.some((b) => b.blocks?.[0]?.text?.text?.includes(id))).toBe(false);
  });
});
