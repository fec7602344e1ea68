// Host leases with TTL and fencing tokens on a real redis-server (unix socket in a temp dir):
// two workers contend for hosts; a worker whose lease ran out or was taken over finds it lost and
// mutates nothing more; its late journal events are refused by Redis (the run's own fence).
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/service/embedded-redis.js';
import { RedisHostLeases, leaseKey } from '../../src/service/leases.js';
import { connect } from '../../src/service/redis.js';
import { takeRunFence, holdsRunFence } from '../../src/service/run-fence.js';
import { eventsKey } from '../../src/service/store.js';
import { RedisStreamSink } from '../../src/service/stream-sink.js';
import { FakeFleet, planOf, runPlan, tempDir } from '../engine/helpers.js';

let server: EmbeddedRedis;
let redis: Redis;
let n = 0;
/** A fresh host name per test: leases are per host, and the tests share one Redis. */
const host = (): string => `h${++n}-${process.pid}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  server = await startEmbeddedRedis(join(tempDir('remedy-leases-'), 'redis'));
  redis = connect({ path: server.socket }, 'leases-test');
}, 30_000);

afterAll(async () => {
  await redis?.quit().catch(() => undefined);
  await server?.stop();
});

describe('Redis host leases', () => {
  it('another run is refused while the lease lives, naming the holder; released, the next holder gets a higher token', async () => {
    const h = host();
    const wa = new RedisHostLeases({ redis, runId: 'run-a', owner: 'wa' });
    const wb = new RedisHostLeases({ redis, runId: 'run-b', owner: 'wb' });
    const first = await wa.acquire(h);
    expect(first).toMatchObject({ held: true });
    const refused = await wb.acquire(h);
    expect(refused).toEqual({ held: false, detail: `leased to another run: held by wa for run run-a with fencing token ${first.held ? first.token : '?'}` });
    expect(await wa.check(h)).toBeNull();
    await wa.release(h);
    const second = await wb.acquire(h);
    expect(second.held && first.held && second.token > first.token).toBe(true);
    // wa's release after the fact never deletes wb's lease.
    await wa.release(h);
    expect(await wb.check(h)).toBeNull();
    await wb.releaseAll();
    expect(await redis.exists(leaseKey(h))).toBe(0);
  });

  it('a takeover of the same run by another worker fences the first: its check and renewal find the lease lost, once', async () => {
    const h = host();
    const lost: string[] = [];
    const wa = new RedisHostLeases({ redis, runId: 'run-t', owner: 'wa', onLost: (_h, why) => lost.push(why) });
    const wb = new RedisHostLeases({ redis, runId: 'run-t', owner: 'wb' });
    const a = await wa.acquire(h);
    const b = await wb.acquire(h);
    expect(b).toMatchObject({ held: true, detail: `taken over from wa (token ${a.held ? a.token : '?'})` });
    const why = await wa.check(h);
    expect(why).toBe(
      `lease on ${h} lost (this worker's fencing token ${a.held ? a.token : '?'}; held by wb for run run-t with fencing token ${b.held ? b.token : '?'})`,
    );
    await wa.renew();
    expect(lost).toEqual([why]);
    expect(await wb.check(h)).toBeNull();
    await wa.releaseAll();
    await wb.releaseAll();
  });

  it('TTL: a worker that stops renewing (stalled) loses the lease when it runs out; a renewing one keeps it', async () => {
    const stalled = host();
    const alive = host();
    const wa = new RedisHostLeases({ redis, runId: 'run-s', owner: 'wa', ttlMs: 600 });
    const wc = new RedisHostLeases({ redis, runId: 'run-c', owner: 'wc', ttlMs: 600 });
    await wa.acquire(stalled);
    wa.close(); // no more renewals, as in a process under SIGSTOP
    await wc.acquire(alive);
    await sleep(1500);
    expect(await redis.exists(leaseKey(stalled))).toBe(0);
    const wb = new RedisHostLeases({ redis, runId: 'run-b', owner: 'wb' });
    expect(await wb.acquire(stalled)).toMatchObject({ held: true });
    expect(await wa.check(stalled)).toMatch(/^lease on .* lost \(this worker's fencing token \d+; held by wb for run run-b/);
    expect(await wc.check(alive)).toBeNull();
    expect(await redis.pttl(leaseKey(alive))).toBeGreaterThan(0);
    await wb.releaseAll();
    await wc.releaseAll();
  });
});

describe('a worker that lost its lease cannot mutate', () => {
  it('taken over after its first mutation: the second mutating step is never sent to that host and the run stops', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: two fixes
steps:
  - id: fix1
    name: fix1
    hosts: mp1
    run: fix-one
    mutates: true
  - id: fix2
    name: fix2
    hosts: mp1
    run: fix-two
    mutates: true
`);
    const runId = `run-f-${process.pid}`;
    const wa = new RedisHostLeases({ redis, runId, owner: 'wa' });
    const wb = new RedisHostLeases({ redis, runId, owner: 'wb' });
    // While wa's first fix runs, wa stalls long enough for wb to take the run (and the lease) over.
    const fleet = new FakeFleet().on('fix-one', async () => {
      await wb.acquire('mp1');
      return { stdout: 'done' };
    });
    const ran = await runPlan(plan, inventory, fleet, { leases: wa, runId });
    expect(fleet.commands('mp1').filter((c) => c.includes('fix-'))).toEqual([expect.stringContaining('fix-one')]);
    const end = ran.of('host-end').find((e) => e.step === 'fix2' && e.host === 'mp1');
    expect(end).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^not run: lease on mp1 lost \(this worker's fencing token \d+; held by wb for run /),
    });
    expect(ran.result.outcome).toBe('interrupted');
    expect(ran.of('lock').find((l) => l.host === 'mp1' && l.action === 'acquired')?.detail).toMatch(/lease token \d+/);
    // wb's lease survives wa's end of run.
    expect(await wb.check('mp1')).toBeNull();
    await wb.releaseAll();
  });

  it('without a lease (another run holds the host) the mutation is refused like a held lock', async () => {
    const { plan, inventory } = planOf(`
name: t
summary: one fix
steps:
  - id: fix
    name: fix
    hosts: mp2
    run: fix-it
    mutates: true
`);
    const other = new RedisHostLeases({ redis, runId: 'run-other', owner: 'wx' });
    await other.acquire('mp2');
    const fleet = new FakeFleet();
    const ran = await runPlan(plan, inventory, fleet, { leases: new RedisHostLeases({ redis, runId: `run-g-${process.pid}`, owner: 'wa' }) });
    expect(fleet.commands('mp2').filter((c) => c.includes('fix-it'))).toEqual([]);
    expect(ran.result.outcome).toBe('refused');
    expect(ran.of('lock')).toEqual([
      expect.objectContaining({ host: 'mp2', action: 'refused', detail: expect.stringContaining('leased to another run: held by wx for run run-other') }),
    ]);
    await other.releaseAll();
  });
});

describe('the run fence', () => {
  it('journal stream writes of a worker whose run was taken over are refused by Redis', async () => {
    const runId = `run-s-${process.pid}`;
    const tokenA = await takeRunFence(redis, runId);
    const a = new RedisStreamSink(redis, runId, tokenA);
    a.write({ seq: 1, ts: 't', type: 'warning', message: 'from wa before' } as never);
    await a.close();
    const tokenB = await takeRunFence(redis, runId);
    expect(await holdsRunFence(redis, runId, tokenA)).toBe(false);
    const b = new RedisStreamSink(redis, runId, tokenB);
    b.write({ seq: 2, ts: 't', type: 'warning', message: 'from wb' } as never);
    a.write({ seq: 2, ts: 't', type: 'warning', message: 'from wa, late' } as never);
    await b.close();
    await a.close();
    expect(a.fenced).toBe(true);
    expect(b.fenced).toBe(false);
    const entries = (await redis.xrange(eventsKey(runId), '-', '+')).map(([, f]) => JSON.parse(f[1] as string).message as string);
    expect(entries).toEqual(['from wa before', 'from wb']);
  });
});
