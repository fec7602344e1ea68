// A standalone worker's own /metrics (`remedy worker --metrics-listen`): `remedy serve` with no
// in-process worker (embedded redis-server), a worker on queue dc-9 in this process serving
// Prometheus text on a loopback port. Its registry counts the runs it executed, their alert →
// first command latency, its queue's depth, its runs in progress and the leases it lost; and the
// run's journal shows the host lease it took before mutating.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkerHost, type WorkerHost } from '../../src/service/worker-host.js';
import { alertmanager, AUTH_YAML, cleanup, serve, TOKENS, until, workspace, type TestServe, type Workspace } from './helpers.js';

let ws: Workspace;
let s: TestServe;
let worker: WorkerHost;

beforeAll(async () => {
  ws = workspace();
  s = await serve(
    ws,
    `${AUTH_YAML}routes:\n  - { match: { alertname: Stuck }, runbook: ${ws.runbook}, inventory: ${ws.inventory}, params: { root: "{{ labels.root }}" }, mode: auto, queue: dc-9 }\n`,
    { work: [] },
  );
  worker = await startWorkerHost({
    target: { path: s.redisSocket as string },
    queues: ['dc-9'],
    concurrency: 1,
    dataDir: join(ws.dir, 'worker-data'),
    notifier: null,
    metrics: null,
    metricsListen: { host: '127.0.0.1', port: 0 },
    name: 'w-dc9',
    log: () => undefined,
  });
}, 60_000);

afterAll(async () => {
  await worker?.close();
  await s?.close();
  if (ws) cleanup(ws.dir);
});

const scrape = async (): Promise<string> => {
  const res = await fetch(worker.metricsUrl as string, { signal: AbortSignal.timeout(10_000) });
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
};

describe('remedy worker /metrics', { timeout: 90_000 }, () => {
  it('counts its runs by outcome, their alert → first command latency, its queue depth, active runs and lost leases', async () => {
    expect(worker.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const before = await scrape();
    expect(before).toMatch(/^remedy_queue_jobs\{queue="dc-9",state="waiting"\} 0$/m);
    expect(before).toMatch(/^remedy_worker_active_runs 0$/m);
    expect(before).toMatch(/^remedy_leases_lost_total 0$/m);
    expect(before).not.toMatch(/^remedy_runs_total\{/m);
    expect(await (await fetch(new URL('/healthz', worker.metricsUrl as string))).json()).toEqual({ ok: true });

    const root = ws.target('m1', 'STUCK');
    const posted = await s.call('/hooks/alertmanager', { token: TOKENS.hook, body: alertmanager({ alertname: 'Stuck', root }, 'firing', 'fp-m1') });
    const id = posted.json.results[0].run as string;
    const run = await until('the run to end', async () => {
      const r = (await s.call(`/api/runs/${id}`, { token: TOKENS.viewer })).json;
      return r && !['queued', 'running'].includes(r.outcome) ? r : null;
    });
    expect(run).toMatchObject({ outcome: 'resolved', worker: 'w-dc9' });

    const after = await scrape();
    expect(after).toMatch(/^remedy_runs_total\{outcome="resolved"\} 1$/m);
    expect(after).toMatch(/^remedy_alert_to_first_command_seconds_count 1$/m);
    expect(after).toMatch(/^remedy_worker_active_runs 0$/m);
    expect(after).toMatch(/^remedy_leases_lost_total 0$/m);
    // The mutation went ahead under a Redis lease with its fencing token.
    const locks = readFileSync(join(run.runDir, 'journal.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; host?: string; action?: string; detail?: string })
      .filter((e) => e.type === 'lock');
    expect(locks.map((l) => [l.host, l.action])).toEqual([
      ['local1', 'acquired'],
      ['local1', 'released'],
    ]);
    expect(locks[0]?.detail).toMatch(/^lease token \d+$/);
  });
});
