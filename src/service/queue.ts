// BullMQ queues and workers: one queue per region or data centre (the route's `queue`), jobs
// naming a run record. Job ids come from the alert fingerprint, so the same alert can be queued
// only once (BullMQ ignores an add whose id exists). Stalled-job handling hands the job of a
// worker that died to another worker on the same queue.
import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RedisTarget } from './redis.js';
import { KEY_PREFIX } from './redis.js';

export const BULL_PREFIX = `${KEY_PREFIX}bull`;

export interface RunJobData {
  runId: string;
}

/** Job id for a run: from the alert's fingerprint (dedupe), or the run id for manual runs. */
export function jobIdFor(runId: string, fingerprint: string | null): string {
  return fingerprint !== null ? `alert-${fingerprint}` : `run-${runId}`;
}

export class Queues {
  readonly #queues = new Map<string, Queue<RunJobData>>();
  private readonly connection: Redis;
  constructor(connection: Redis) {
    this.connection = connection;
  }

  get(name: string): Queue<RunJobData> {
    let q = this.#queues.get(name);
    if (!q) {
      q = new Queue<RunJobData>(name, { connection: this.connection as unknown as ConnectionOptions, prefix: BULL_PREFIX });
      this.#queues.set(name, q);
    }
    return q;
  }

  /** Enqueues a run; returns the run id of the job now holding this id (another run's: not enqueued). */
  async add(queue: string, runId: string, jobId: string): Promise<string> {
    const q = this.get(queue);
    await q.add('run', { runId }, { jobId, removeOnComplete: true, removeOnFail: true, attempts: 1 });
    // BullMQ ignores an add whose job id exists: read back whose job it is.
    const job = await q.getJob(jobId);
    return job?.data.runId ?? runId;
  }

  /** Removes a job that has not started; false when it is running or gone. */
  async removeWaiting(queue: string, jobId: string): Promise<boolean> {
    const job = await this.get(queue).getJob(jobId);
    if (!job) return false;
    const state = await job.getState();
    if (state !== 'waiting' && state !== 'delayed' && state !== 'prioritized') return false;
    await job.remove();
    return true;
  }

  names(): string[] {
    return [...this.#queues.keys()];
  }

  async depth(): Promise<Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [name, q] of this.#queues) out[name] = await q.getJobCounts('waiting', 'active', 'delayed');
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((q) => q.close()));
  }
}

export interface WorkerOptions {
  target: RedisTarget;
  queue: string;
  concurrency: number;
  /** How long a job's lock lasts without renewal; a worker silent for longer is considered dead. */
  lockDurationMs: number;
  process: (job: Job<RunJobData>) => Promise<void>;
}

export function startWorker(o: WorkerOptions): Worker<RunJobData> {
  return new Worker<RunJobData>(o.queue, o.process, {
    connection: { ...o.target, maxRetriesPerRequest: null } as ConnectionOptions,
    prefix: BULL_PREFIX,
    concurrency: o.concurrency,
    lockDuration: o.lockDurationMs,
    stalledInterval: Math.max(1000, Math.floor(o.lockDurationMs / 2)),
    // A run stalls when its worker dies: hand it over once; a second death fails the job.
    maxStalledCount: 1,
  });
}
