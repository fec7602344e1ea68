// The worker side, used by `remedy worker` and by `remedy serve`'s in-process worker: BullMQ
// workers for some queues, each job run through executeRun, cancel requests by pub/sub.
import { hostname } from 'node:os';
import type { Worker } from 'bullmq';
import { startMetricsServer } from './metrics-server.js';
import { Metrics } from './metrics.js';
import type { Notifier } from './notify.js';
import { Queues, startWorker, type RunJobData } from './queue.js';
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
  /** Serve this worker's own /metrics and /healthz here (standalone workers; serve has its own). */
  metricsListen?: { host: string; port: number } | undefined;
  /** TTL of the host leases its runs take. */
  leaseTtlMs?: number | undefined;
  log: (line: string) => void;
}

export interface WorkerHost {
  name: string;
  /** Where /metrics is served (with metricsListen). */
  metricsUrl: string | null;
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
  const inFlight = new Map<string, Promise<void>>();
  // A standalone worker with --metrics-listen keeps its own registry: its queue's depth, its runs.
  const queues = o.metricsListen && !o.metrics ? new Queues(redis) : null;
  for (const q of o.queues) queues?.get(q);
  const metrics = o.metrics ?? (queues ? new Metrics(() => queues.depth()) : null);
  const ctx: JobContext = {
    redis,
    store: new RunStore(redis),
    safety: new Safety(redis),
    notifier: o.notifier,
    metrics,
    dataDir: o.dataDir,
    workerName: name,
    running,
    log: o.log,
    leaseTtlMs: o.leaseTtlMs,
  };
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
        // A job lock that lapsed while this process still runs the job (a loaded machine missing
        // the renewal) gets the job redelivered, possibly here: never a second execution of the
        // same run in one process; the redelivered job completes when the first one does.
        const runId = job.data.runId;
        const current = inFlight.get(runId);
        if (current) {
          o.log(`remedy: run ${runId}: redelivered to ${name} while it still runs here (its job lock lapsed); not started twice`);
          return current;
        }
        const execution = executeRun(ctx, runId)
          .then(() => undefined)
          .finally(() => inFlight.delete(runId));
        inFlight.set(runId, execution);
        return execution;
      },
    }),
  );
  for (const w of workers) {
    w.on('failed', (job, err) => o.log(`remedy: job ${job?.id ?? '?'} on ${w.name} failed: ${err.message}`));
    w.on('error', (err) => o.log(`remedy: worker ${w.name}: ${err.message}`));
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  const metricsServer = o.metricsListen && metrics ? await startMetricsServer(metrics, o.metricsListen) : null;
  return {
    name,
    metricsUrl: metricsServer ? `${metricsServer.url}/metrics` : null,
    async close() {
      for (const ac of running.values()) ac.abort();
      await metricsServer?.close();
      await Promise.all(workers.map((w) => w.close()));
      await queues?.close();
      subscriber.disconnect();
      await redis.quit().catch(() => undefined);
    },
  };
}
