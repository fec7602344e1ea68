// Every journal event also goes to the run's Redis Stream: the live view (SSE) reads it, and a
// worker taking over a dead worker's run rebuilds the run directory from it. Writes keep the
// event order (one connection, commands pipelined in order); close() waits for all of them.
import type { Redis } from 'ioredis';
import type { EventSink, RunEvent } from '../engine/events.js';
import { eventsKey } from './store.js';

export class RedisStreamSink implements EventSink {
  #last: Promise<unknown> = Promise.resolve();
  #failed: Error | null = null;

  private readonly redis: Redis;
  private readonly runId: string;
  constructor(redis: Redis, runId: string) {
    this.redis = redis;
    this.runId = runId;
  }

  write(event: RunEvent): void {
    // host-output lines are throttled view traffic: the journal may skip them, so may the stream.
    if (event.type === 'host-output') return;
    this.#last = this.redis.xadd(eventsKey(this.runId), '*', 'e', JSON.stringify(event)).catch((err: Error) => {
      this.#failed ??= err;
    });
  }

  async close(): Promise<void> {
    await this.#last;
    if (this.#failed) process.stderr.write(`remedy: run ${this.runId}: journal stream write failed: ${this.#failed.message}\n`);
  }
}
