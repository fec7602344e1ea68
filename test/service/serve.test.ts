// remedy serve against a real redis-server (embedded: unix socket in a temp dir, stopped by PID)
// and real runs through the CLI's session on the local transport: alert → resolved run, dedupe,
// resolved alerts, budget with a notification, the breaker, approve mode, cancel, SSE, reports.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertmanager, AUTH_YAML, cleanup, receiver, serve, TOKENS, until, workspace, type TestServe, type Workspace } from './helpers.js';

let ws: Workspace;
let s: TestServe;
let rx: Awaited<ReturnType<typeof receiver>>;

function policy(): string {
  return `${AUTH_YAML}notify:
  - { url: "${rx.url}", on: [refused, resolved, approval-needed, breaker-tripped, failed] }
maintenance:
  - { name: freeze, match: { alertname: Frozen }, start: "2000-01-01T00:00:00Z", end: "2999-01-01T00:00:00Z" }
routes:
  - name: fix
    match: { alertname: Stuck }
    runbook: ${ws.runbook}
    inventory: ${ws.inventory}
    params: { root: "{{ labels.root }}" }
    mode: auto
    budget: { max: 2, per: 1h }
    breaker: { window: 1h }
  - name: approve
    match: { alertname: StuckApprove }
    runbook: ${ws.runbook}
    inventory: ${ws.inventory}
    params: { root: "{{ labels.root }}" }
    mode: approve
  - name: frozen
    match: { alertname: Frozen }
    runbook: ${ws.runbook}
    inventory: ${ws.inventory}
    params: { root: "{{ labels.root }}" }
    mode: auto
  - name: cooled
    match: { alertname: Cooled }
    runbook: ${ws.runbook}
    inventory: ${ws.inventory}
    params: { root: "{{ labels.root }}" }
    mode: auto
    cooldown: 1h
  - name: parked
    match: { alertname: Parked }
    runbook: ${ws.runbook}
    inventory: ${ws.inventory}
    params: { root: "{{ labels.root }}" }
    queue: nobody-works-here
`;
}

const post = (body: unknown) => s.call('/hooks/alertmanager', { token: TOKENS.hook, body });
const run = async (id: string) => (await s.call(`/api/runs/${id}`, { token: TOKENS.viewer })).json;
const ended = (id: string) =>
  until(`run ${id} to end`, async () => {
    const r = await run(id);
    return !['queued', 'running'].includes(r.outcome) ? r : null;
  });
const fixes = (root: string) => (existsSync(join(root, 'fixes')) ? readFileSync(join(root, 'fixes'), 'utf8').trim().split('\n').length : 0);

beforeAll(async () => {
  ws = workspace();
  rx = await receiver();
  s = await serve(ws, policy(), { work: ['default'] });
}, 60_000);

afterAll(async () => {
  await s?.close();
  await rx?.close();
  if (ws) cleanup(ws.dir);
});

describe('remedy serve', { timeout: 90_000 }, () => {
  it('an Alertmanager alert runs its runbook to a resolved outcome; GET /api/runs has the contract shape', async () => {
    const root = ws.target('a1', 'STUCK');
    const r = await post(alertmanager({ alertname: 'Stuck', root }, 'firing', 'fp-a1'));
    expect(r.status).toBe(202);
    expect(r.json.results).toEqual([{ fingerprint: 'fp-a1', action: 'enqueued', run: expect.any(String) }]);
    const id = r.json.results[0].run as string;
    const done = await ended(id);
    expect(done).toMatchObject({
      id,
      outcome: 'resolved',
      exitCode: 0,
      cause: 'stuck',
      hosts: { local1: 'ok' },
      alert: { fingerprint: 'fp-a1' },
      decision: { route: 'fix', mode: 'auto' },
    });
    expect(readFileSync(join(root, 'state'), 'utf8')).toBe('OK\n');
    const list = await s.call('/api/runs', { token: TOKENS.viewer });
    expect(list.status).toBe(200);
    const mine = list.json.runs.find((x: { id: string }) => x.id === id);
    for (const key of ['id', 'runbook', 'outcome', 'exitCode', 'cause']) expect(mine).toHaveProperty(key);
    expect(mine.alert.fingerprint).toBe('fp-a1');
    // The journal went to the run's stream: the report is built from it.
    const md = await s.call(`/api/runs/${id}/report?format=markdown`, { token: TOKENS.viewer });
    expect(md.status).toBe(200);
    expect(md.headers.get('content-type')).toMatch(/text\/markdown/);
    expect(md.text).toContain('unstick');
    const html = await s.call(`/api/runs/${id}/report?format=html`, { token: TOKENS.viewer });
    expect(html.text).toMatch(/^<!doctype html>/i);
    const json = await s.call(`/api/runs/${id}/report?format=json`, { token: TOKENS.viewer });
    expect(json.json.outcome ?? json.json.result?.outcome).toBeDefined();
    // The resolved notification reached the receiver, with a link to the run.
    await until('resolved notification', async () => rx.bodies.find((b) => b.event === 'resolved' && b.run.id === id));
    expect(rx.bodies.find((b) => b.event === 'resolved' && b.run.id === id).link).toMatch(new RegExp(`/api/runs/${id}$`));
  });

  it('the same alert posted 100 times at once gives one run; a resolved alert gives none', async () => {
    const root = ws.target('dup', 'STUCK');
    const body = alertmanager({ alertname: 'Stuck', root }, 'firing', 'fp-dup');
    const answers = await Promise.all(Array.from({ length: 100 }, () => post(body)));
    expect(answers.every((a) => a.status === 202)).toBe(true);
    const runIds = new Set(answers.map((a) => a.json.results[0].run as string));
    expect(runIds.size).toBe(1);
    expect(answers.filter((a) => a.json.results[0].action === 'enqueued')).toHaveLength(1);
    const [id] = [...runIds];
    await ended(id as string);
    // Still firing (Alertmanager repeats it): still the same run.
    expect((await post(body)).json.results[0]).toMatchObject({ action: 'deduped', run: id });
    const all = (await s.call('/api/runs?limit=1000', { token: TOKENS.viewer })).json.runs.filter(
      (r: { alert: { fingerprint: string } | null }) => r.alert?.fingerprint === 'fp-dup',
    );
    expect(all).toHaveLength(1);
    expect(fixes(root)).toBe(1);

    const before = (await s.call('/api/runs?limit=1000', { token: TOKENS.viewer })).json.runs.length;
    const resolved = await post(alertmanager({ alertname: 'Stuck', root: ws.target('never', 'STUCK') }, 'resolved', 'fp-never-fired'));
    expect(resolved.json.results[0]).toEqual({ fingerprint: 'fp-never-fired', action: 'resolved' });
    expect((await s.call('/api/runs?limit=1000', { token: TOKENS.viewer })).json.runs.length).toBe(before);
  });

  it('a resolved alert cancels its queued run; nothing ever runs it', async () => {
    const root = ws.target('parked', 'STUCK');
    const fired = await post(alertmanager({ alertname: 'Parked', root }, 'firing', 'fp-parked'));
    const id = fired.json.results[0].run as string;
    expect((await run(id)).outcome).toBe('queued');
    const resolved = await post(alertmanager({ alertname: 'Parked', root }, 'resolved', 'fp-parked'));
    expect(resolved.json.results[0]).toEqual({ fingerprint: 'fp-parked', action: 'cancelled', run: id });
    expect(await run(id)).toMatchObject({ outcome: 'cancelled', message: 'the alert resolved before the run started' });
  });

  it('a budget of 2 per hour refuses the third run, recorded with its reason and notified', async () => {
    // Its own scope (the root param): earlier tests do not count against it.
    const root = ws.target('budget', 'OK');
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await post(alertmanager({ alertname: 'Stuck', root, n: String(i) }, 'firing', `fp-budget-${i}`));
      expect(r.json.results[0].action).toBe('enqueued');
      ids.push(r.json.results[0].run);
    }
    const third = await post(alertmanager({ alertname: 'Stuck', root, n: '3' }, 'firing', 'fp-budget-3'));
    expect(third.json.results[0]).toMatchObject({ action: 'refused', reason: expect.stringMatching(/^budget exhausted: 2 of 2 runs per 1h used/) });
    const refused = await run(third.json.results[0].run);
    expect(refused).toMatchObject({ outcome: 'refused', exitCode: 5, decision: { reason: expect.stringMatching(/^budget exhausted/) } });
    const note = await until('refused notification', async () => rx.bodies.find((b) => b.event === 'refused' && b.run.id === refused.id));
    expect(note.summary).toMatch(/budget exhausted/);
    for (const id of ids) expect((await ended(id)).outcome).toBe('nothing-to-do');
    const metrics = (await s.call('/metrics', { token: null })).text;
    expect(metrics).toMatch(/^remedy_budget_exhausted_total [1-9]/m);
  });

  it('a maintenance window and a cooldown refuse runs, each recorded with its reason', async () => {
    const frozen = await post(alertmanager({ alertname: 'Frozen', root: ws.target('frozen', 'STUCK') }, 'firing', 'fp-frozen'));
    expect(frozen.json.results[0]).toMatchObject({ action: 'refused', reason: 'maintenance window "freeze" until 2999-01-01T00:00:00Z' });
    expect(await run(frozen.json.results[0].run)).toMatchObject({ outcome: 'refused', exitCode: 5 });
    const root = ws.target('cooled', 'OK');
    const first = await post(alertmanager({ alertname: 'Cooled', root, n: '1' }, 'firing', 'fp-cool-1'));
    expect(first.json.results[0].action).toBe('enqueued');
    const second = await post(alertmanager({ alertname: 'Cooled', root, n: '2' }, 'firing', 'fp-cool-2'));
    expect(second.json.results[0]).toMatchObject({
      action: 'refused',
      reason: expect.stringMatching(/^cooldown: another run for this scope started less than 1h ago/),
    });
    // Another scope (another root) is not cooled down.
    expect((await post(alertmanager({ alertname: 'Cooled', root: ws.target('cooled-2', 'OK') }, 'firing', 'fp-cool-3'))).json.results[0].action).toBe(
      'enqueued',
    );
    const metrics = (await s.call('/metrics', { token: null })).text;
    expect(metrics).toMatch(/^remedy_policy_refusals_total\{reason="maintenance"\} 1$/m);
    expect(metrics).toMatch(/^remedy_policy_refusals_total\{reason="cooldown"\} 1$/m);
    await ended(first.json.results[0].run);
  });

  it('the breaker trips when the alert fires again after a resolved run, and resets through the API', async () => {
    const root = ws.target('flappy', 'STUCK');
    const labels = { alertname: 'Stuck', root };
    const first = await post(alertmanager(labels, 'firing', 'fp-flap'));
    expect((await ended(first.json.results[0].run)).outcome).toBe('resolved');
    await post(alertmanager(labels, 'resolved', 'fp-flap'));
    // The fix did not hold: it fires again.
    const again = await post(alertmanager(labels, 'firing', 'fp-flap'));
    expect(again.json.results[0]).toMatchObject({
      action: 'refused',
      reason: expect.stringMatching(/^breaker tripped: the alert fired again within 1h of run /),
    });
    await until('breaker notification', async () =>
      rx.bodies.find((b) => b.event === 'breaker-tripped' && b.evidence?.previousRun?.id === first.json.results[0].run),
    );
    const breakers = (await s.call('/api/breakers', { token: TOKENS.viewer })).json.breakers;
    const b = breakers.find((x: { fingerprint: string }) => x.fingerprint === 'fp-flap');
    expect(b).toMatchObject({ route: 'fix', resolvedRun: first.json.results[0].run });
    // While open, a new firing of the scope is refused too.
    await post(alertmanager(labels, 'resolved', 'fp-flap'));
    expect((await post(alertmanager(labels, 'firing', 'fp-flap'))).json.results[0].reason).toMatch(/^breaker open since/);
    // Operators and viewers cannot reset it; an admin can.
    expect((await s.call(`/api/breakers/${b.id}/reset`, { token: TOKENS.operator, method: 'POST' })).status).toBe(403);
    expect((await s.call(`/api/breakers/${b.id}/reset`, { token: TOKENS.admin, method: 'POST' })).status).toBe(200);
    expect((await s.call(`/api/breakers/${b.id}/reset`, { token: TOKENS.admin, method: 'POST' })).status).toBe(404);
    await post(alertmanager(labels, 'resolved', 'fp-flap'));
    writeState(root, 'STUCK');
    const after = await post(alertmanager(labels, 'firing', 'fp-flap'));
    expect(after.json.results[0].action).toBe('enqueued');
    expect((await ended(after.json.results[0].run)).outcome).toBe('resolved');
  });

  it('a regrouped or late copy of a resolved episode (same fingerprint and startsAt) starts no run and trips no breaker; a new episode does', async () => {
    const root = ws.target('regroup', 'STUCK');
    const labels = { alertname: 'Stuck', root };
    const first = await post(alertmanager(labels, 'firing', 'fp-regroup', '2026-11-29T11:00:00Z'));
    expect((await ended(first.json.results[0].run)).outcome).toBe('resolved');
    // Still firing at Alertmanager when it regroups: the same episode, deduped to its run.
    expect((await post(alertmanager(labels, 'firing', 'fp-regroup', '2026-11-29T11:00:00Z'))).json.results[0]).toEqual({
      fingerprint: 'fp-regroup',
      action: 'deduped',
      run: first.json.results[0].run,
    });
    await post(alertmanager(labels, 'resolved', 'fp-regroup', '2026-11-29T11:00:00Z'));
    // An HA replica's firing copy of that episode, arriving after the resolved one.
    const runsBefore = (await s.call('/api/runs', { token: TOKENS.viewer })).json.runs.length;
    const late = await post(alertmanager(labels, 'firing', 'fp-regroup', '2026-11-29T11:00:00Z'));
    expect(late.json.results[0]).toEqual({
      fingerprint: 'fp-regroup',
      action: 'deduped',
      reason: expect.stringMatching(/^a repeat of the alert episode that started at 2026-11-29T11:00:00Z and already resolved/),
    });
    expect((await s.call('/api/runs', { token: TOKENS.viewer })).json.runs.length).toBe(runsBefore);
    expect((await s.call('/api/breakers', { token: TOKENS.viewer })).json.breakers.some((b: { fingerprint: string }) => b.fingerprint === 'fp-regroup')).toBe(
      false,
    );
    // A new episode (a later startsAt) within the window is a recurrence: the breaker trips.
    writeState(root, 'STUCK');
    const again = await post(alertmanager(labels, 'firing', 'fp-regroup', '2026-11-29T11:20:00Z'));
    expect(again.json.results[0]).toMatchObject({ action: 'refused', reason: expect.stringMatching(/^breaker tripped/) });
    const b = (await s.call('/api/breakers', { token: TOKENS.viewer })).json.breakers.find((x: { fingerprint: string }) => x.fingerprint === 'fp-regroup');
    expect((await s.call(`/api/breakers/${b.id}/reset`, { token: TOKENS.admin, method: 'POST' })).status).toBe(200);
  });

  it('approve mode: the run waits; a wrong plan hash is refused and changes nothing; the right one applies it', async () => {
    const root = ws.target('approve', 'STUCK');
    const r = await post(alertmanager({ alertname: 'StuckApprove', root }, 'firing', 'fp-approve'));
    const id = r.json.results[0].run as string;
    const waiting = await until('approval request', async () => {
      const x = await run(id);
      return x.approval ? x : null;
    });
    expect(waiting).toMatchObject({ outcome: 'running', approval: { step: 'unstick', hosts: ['local1'], planHash: expect.stringMatching(/^sha256:/) } });
    expect(waiting.approval.commands[0].command).toContain(`echo OK > ${root}/state`);
    await until('approval-needed notification', async () => rx.bodies.find((b) => b.event === 'approval-needed' && b.run.id === id));
    const body = { step: 'unstick', decision: 'approved', planHash: 'sha256:0000', comment: 'looks right' };
    const wrong = await s.call(`/api/runs/${id}/approvals`, { token: TOKENS.operator, body });
    expect(wrong.status).toBe(409);
    expect(wrong.json.error).toMatch(/^plan hash differs/);
    expect((await s.call(`/api/runs/${id}/approvals`, { token: TOKENS.viewer, body: { ...body, planHash: waiting.approval.planHash } })).status).toBe(403);
    expect(
      (await s.call(`/api/runs/${id}/approvals`, { token: TOKENS.operator, body: { ...body, planHash: waiting.approval.planHash, hosts: ['elsewhere'] } }))
        .status,
    ).toBe(400);
    await new Promise((res) => setTimeout(res, 1500));
    expect(readFileSync(join(root, 'state'), 'utf8')).toBe('STUCK\n');
    expect((await run(id)).outcome).toBe('running');
    const right = await s.call(`/api/runs/${id}/approvals`, { token: TOKENS.operator, body: { ...body, planHash: waiting.approval.planHash } });
    expect(right.status).toBe(202);
    expect(right.json).toMatchObject({ operator: 'alice', decision: 'approved' });
    expect((await ended(id)).outcome).toBe('resolved');
    expect(readFileSync(join(root, 'state'), 'utf8')).toBe('OK\n');
    // The journal records the approval with the operator from the token and the plan hash.
    const ev = await s.call(`/api/runs/${id}/events`, { token: TOKENS.viewer });
    const approval = parseSse(ev.text).find((e) => e.event === 'approval');
    expect(approval?.data).toMatchObject({
      step: 'unstick',
      decision: 'approved',
      operator: 'alice',
      source: 'operator',
      planHash: waiting.approval.planHash,
      comment: 'looks right',
    });
  });

  it('GET /api/runs/:id/events replays the journal as SSE and resumes after Last-Event-ID', async () => {
    const root = ws.target('sse', 'STUCK');
    const id = (await post(alertmanager({ alertname: 'Stuck', root }, 'firing', 'fp-sse'))).json.results[0].run as string;
    await ended(id);
    const all = parseSse((await s.call(`/api/runs/${id}/events`, { token: TOKENS.viewer })).text);
    expect(all[0]?.event).toBe('run-start');
    expect(all.at(-1)?.event).toBe('run-end');
    const cut = all[3] as { id: string };
    const rest = parseSse((await s.call(`/api/runs/${id}/events`, { token: TOKENS.viewer, headers: { 'last-event-id': cut.id } })).text);
    expect(rest.map((e) => e.id)).toEqual(all.slice(4).map((e) => e.id));
  });

  it('cancel: a queued run is removed before it starts', async () => {
    const root = ws.target('cancel', 'STUCK');
    const id = (await post(alertmanager({ alertname: 'Parked', root }, 'firing', 'fp-cancel'))).json.results[0].run as string;
    expect((await s.call(`/api/runs/${id}/cancel`, { token: TOKENS.viewer, method: 'POST' })).status).toBe(403);
    const c = await s.call(`/api/runs/${id}/cancel`, { token: TOKENS.operator, method: 'POST' });
    expect(c.json).toEqual({ run: id, outcome: 'cancelled' });
    expect((await run(id)).outcome).toBe('cancelled');
    expect((await s.call(`/api/runs/${id}/cancel`, { token: TOKENS.operator, method: 'POST' })).status).toBe(409);
  });

  it('cancel: a running run waiting for its approval ends cancelled, nothing applied', async () => {
    const root = ws.target('cancel-running', 'STUCK');
    const id = (await post(alertmanager({ alertname: 'StuckApprove', root }, 'firing', 'fp-cancel-running'))).json.results[0].run as string;
    await until('approval request', async () => (await run(id)).approval);
    expect((await s.call(`/api/runs/${id}/cancel`, { token: TOKENS.operator, method: 'POST' })).json).toEqual({ run: id, outcome: 'cancelling' });
    expect(await ended(id)).toMatchObject({ outcome: 'cancelled', approval: null });
    expect(readFileSync(join(root, 'state'), 'utf8')).toBe('STUCK\n');
  });

  it('a manual run through POST /api/runs, by an operator', async () => {
    const root = ws.target('manual', 'STUCK');
    const r = await s.call('/api/runs', { token: TOKENS.operator, body: { runbook: ws.runbook, route: 'fix', params: { root } } });
    expect(r.status).toBe(202);
    expect(r.json.decision).toMatchObject({ requestedBy: 'alice', route: 'fix' });
    expect((await ended(r.json.id)).outcome).toBe('resolved');
    expect((await s.call('/api/runs', { token: TOKENS.operator, body: { runbook: '/etc/passwd', params: {} } })).status).toBe(400);
  });

  it('lists runs newest first, filtered by outcome and runbook', async () => {
    const runs = (await s.call('/api/runs?limit=1000', { token: TOKENS.viewer })).json.runs as { createdAt: string; outcome: string }[];
    const times = runs.map((r) => r.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
    const refused = (await s.call('/api/runs?outcome=refused', { token: TOKENS.viewer })).json.runs as { outcome: string }[];
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((r) => r.outcome === 'refused')).toBe(true);
    expect((await s.call('/api/runs?runbook=nope', { token: TOKENS.viewer })).json.runs).toEqual([]);
    expect((await s.call('/api/runs?since=yesterday-ish', { token: TOKENS.viewer })).status).toBe(400);
  });
});

function writeState(root: string, state: string): void {
  writeFileSync(join(root, 'state'), `${state}\n`);
}

function parseSse(text: string): { id: string; event: string; data: any }[] {
  return text
    .split('\n\n')
    .filter((block) => block.includes('data: '))
    .map((block) => {
      const field = (name: string) =>
        block
          .split('\n')
          .find((l) => l.startsWith(`${name}: `))
          ?.slice(name.length + 2) ?? '';
      return { id: field('id'), event: field('event'), data: JSON.parse(field('data')) };
    });
}
