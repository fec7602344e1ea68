// Every journal event also goes to the run's Redis Stream: the live view (SSE) reads it, and a
// worker taking over a dead worker's run rebuilds the run directory from it. Writes keep the
// event order (one connection, commands pipelined in order); close() waits for all of them.
// Writes are fenced by the run's token (run-fence.ts): once another worker took the run over, a
// stalled worker's late events are refused by Redis itself and never mix into the stream.
import type { Redis } from 'ioredis';
import type { EventSink, RunEvent } from '../engine/events.js';
import { runFenceKey } from './run-fence.js';
import { eventsKey } from './store.js';

// KEYS: fence, stream. ARGV: token, event. → the entry id, or false when fenced off.
const FENCED_XADD = `
if tonumber(redis.call('GET', KEYS[1]) or '0') ~= tonumber(ARGV[1]) then return false end
return redis.call('XADD', KEYS[2], '*', 'e', ARGV[2])
`;

export class RedisStreamSink implements EventSink {
  #last: Promise<unknown> = Promise.resolve();
  #failed: Error | null = null;
  #fenced = false;

  private readonly redis: Redis;
  private readonly runId: string;
  private readonly token: number | null;
  /** `token`: the run's fencing token for this worker (null: unfenced, for tools and tests). */
  constructor(redis: Redis, runId: string, token: number | null = null) {
    this.redis = redis;
    this.runId = runId;
    this.token = token;
  }

  /** True once Redis refused a write: another worker holds the run now. */
  get fenced(): boolean {
    return this.#fenced;
  }

  write(event: RunEvent): void {
    // host-output lines are throttled view traffic: the journal may skip them, so may the stream.
    if (event.type === 'host-output') return;
    if (this.#fenced) return;
    const data = JSON.stringify(event);
    const write =
      this.token === null
        ? this.redis.xadd(eventsKey(this.runId), '*', 'e', data)
        : this.redis.eval(FENCED_XADD, 2, runFenceKey(this.runId), eventsKey(this.runId), this.token, data);
    this.#last = write.then(
      (id) => {
        if (id === null) this.#fenced = true;
      },
      (err: Error) => {
        this.#failed ??= err;
      },
    );
  }

  async close(): Promise<void> {
    await this.#last;
    if (this.#failed) process.stderr.write(`remedy: run ${this.runId}: journal stream write failed: ${this.#failed.message}\n`);
    if (this.#fenced)
      process.stderr.write(`remedy: run ${this.runId}: another worker took this run over; this worker's later events stay in its local journal only\n`);
  }
}
