// The worker side, used by `remedy worker` and by `remedy serve`'s in-process worker: BullMQ
// workers for some queues, each job run through executeRun, cancel requests by pub/sub.
import { hostname } from 'node:os';
import type { Worker } from 'bullmq';
import type { Metrics } from './metrics.js';
import type { Notifier } from './notify.js';
import { startWorker, type RunJobData } from './queue.js';
import { connect, ensureReachable, type RedisTarget } from './redis.js';
import { executeRun, type JobContext } from './run-job.js';
import { Safety } from './safety.js';
import { CANCEL_CHANNEL } from './server.js';
import { RunStore } from './store.js';

export interface WorkerHostOptions {
  target: RedisTarget;
  queues: string[];
  concurrency: number;
  dataDir: string;
  notifier: Notifier | null;
  metrics: Metrics | null;
  lockDurationMs?: number | undefined;
  name?: string | undefined;
  /** How to name Redis in errors (the URL as given). */
  redisLabel?: string | undefined;
  log: (line: string) => void;
}

export interface WorkerHost {
  name: string;
  close(): Promise<void>;
}

export async function startWorkerHost(o: WorkerHostOptions): Promise<WorkerHost> {
  const name = o.name ?? `${hostname()}:${process.pid}`;
  const redis = connect(o.target, `remedy-worker-${name}`);
  const subscriber = connect(o.target, `remedy-worker-${name}-cancel`);
  try {
    await ensureReachable(redis, o.redisLabel ?? 'worker');
  } catch (err) {
    redis.disconnect();
    subscriber.disconnect();
    throw err;
  }
  const running = new Map<string, AbortController>();
  const ctx: JobContext = { redis, store: new RunStore(redis), safety: new Safety(redis), notifier: o.notifier, metrics: o.metrics, dataDir: o.dataDir, workerName: name, running, log: o.log };
  await subscriber.subscribe(CANCEL_CHANNEL);
  subscriber.on('message', (_channel: string, runId: string) => {
    const ac = running.get(runId);
    if (ac && !ac.signal.aborted) {
      o.log(`remedy: run ${runId}: cancel requested`);
      ac.abort();
    }
  });
  const workers: Worker<RunJobData>[] = o.queues.map((queue) =>
    startWorker({
      target: o.target,
      queue,
      concurrency: o.concurrency,
      lockDurationMs: o.lockDurationMs ?? 30_000,
      process: async (job) => {
        await executeRun(ctx, job.data.runId);
      },
    }),
  );
  for (const w of workers) {
    w.on('failed', (job, err) => o.log(`remedy: job ${job?.id ?? '?'} on ${w.name} failed: ${err.message}`));
    w.on('error', (err) => o.log(`remedy: worker ${w.name}: ${err.message}`));
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  return {
    name,
    async close() {
      for (const ac of running.values()) ac.abort();
      await Promise.all(workers.map((w) => w.close()));
      subscriber.disconnect();
      await redis.quit().catch(() => undefined);
    },
  };
}
