// The run's fencing token: every worker that starts (or takes over) a run takes the next value.
// Journal stream writes and the final record are accepted only with the newest token, so a worker
// that stalled while another took its run over cannot overwrite what the new holder records.
import type { Redis } from 'ioredis';
import { KEY_PREFIX } from './redis.js';

export const runFenceKey = (runId: string): string => `${KEY_PREFIX}run:${runId}:fence`;

/** This worker's token for the run (the run's previous holders are fenced off from now on). */
export async function takeRunFence(redis: Redis, runId: string): Promise<number> {
  return redis.incr(runFenceKey(runId));
}

/** Whether `token` is still the newest for the run. */
export async function holdsRunFence(redis: Redis, runId: string, token: number): Promise<boolean> {
  return Number((await redis.get(runFenceKey(runId))) ?? 0) === token;
}
