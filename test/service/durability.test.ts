// Redis restarted in the middle of a run: the run completes, and every journal event the worker
// wrote (its journal.jsonl, the record of truth) is in the run's Redis Stream: none of the
// writes acknowledged to the session is lost (ioredis queues them while Redis is away).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/service/embedded-redis.js';
import { alertmanager, AUTH_YAML, cleanup, serve, TOKENS, until, workspace, type TestServe, type Workspace } from './helpers.js';

let ws: Workspace;
let redis: EmbeddedRedis;
let s: TestServe;

const SLOW = `name: svc-slow
summary: steps spread over a few seconds
steps:
${Array.from({ length: 8 }, (_, i) => `  - id: s${i}\n    name: step ${i}\n    hosts: all\n    run: sleep 0.5; echo ${i}\n`).join('')}`;

beforeAll(async () => {
  ws = workspace();
  writeFileSync(join(ws.dir, 'slow.yaml'), SLOW);
  redis = await startEmbeddedRedis(join(ws.dir, 'redis'), { fsync: 'always' });
  s = await serve(
    ws,
    `${AUTH_YAML}routes:\n  - { match: { alertname: Slow }, runbook: ${join(ws.dir, 'slow.yaml')}, inventory: ${ws.inventory}, mode: auto }\n`,
    { redisUrl: `unix://${redis.socket}`, work: ['default'] },
  );
}, 60_000);

afterAll(async () => {
  await s?.close();
  await redis?.stop();
  if (ws) cleanup(ws.dir);
});

describe('Redis restarted mid-run', { timeout: 90_000 }, () => {
  it('the run completes and no journal event is missing from its stream', async () => {
    const posted = await s.call('/hooks/alertmanager', { token: TOKENS.hook, body: alertmanager({ alertname: 'Slow' }, 'firing', 'fp-slow') });
    const id = posted.json.results[0].run as string;
    await until('the run to be in its second step', async () => {
      const r = (await s.call(`/api/runs/${id}`, { token: TOKENS.viewer })).json;
      return r.runDir && readFileSync(join(r.runDir, 'journal.jsonl'), 'utf8').includes('"step":"s1"');
    });
    const pid = redis.pid;
    await redis.stop();
    await new Promise((r) => setTimeout(r, 700));
    redis = await startEmbeddedRedis(join(ws.dir, 'redis'), { fsync: 'always' });
    expect(redis.pid).not.toBe(pid);
    const run = await until('the run to end', async () => {
      const r = (await s.call(`/api/runs/${id}`, { token: TOKENS.viewer })).json;
      return r && !['queued', 'running'].includes(r.outcome) ? r : null;
    });
    expect(run.outcome).toBe('nothing-to-do');
    const journal = readFileSync(join(run.runDir, 'journal.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; type: string })
      .filter((e) => e.type !== 'host-output');
    const sse = (await s.call(`/api/runs/${id}/events`, { token: TOKENS.viewer })).text;
    const streamed = [...sse.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1] as string) as { seq: number; type: string });
    expect(journal.length).toBeGreaterThan(20);
    expect(streamed.map((e) => `${e.seq}:${e.type}`)).toEqual(journal.map((e) => `${e.seq}:${e.type}`));
  });
});
