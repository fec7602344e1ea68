// Redis connections: `--redis URL` (redis://, rediss://, unix:///path, or
// redis+sentinel://host:port,host:port/master-name for Sentinel) or the embedded server's socket.
import { Redis, type RedisOptions } from 'ioredis';
import { RemedyError, UsageError } from '../errors.js';

export type RedisTarget = RedisOptions;

export function parseRedisUrl(url: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--redis: not a URL: "${url}" (expected redis://host:6379, unix:///path/redis.sock or redis+sentinel://h1:26379,h2:26379/mymaster)`);
  }
  const auth: RedisOptions = {};
  if (u.username) auth.username = decodeURIComponent(u.username);
  if (u.password) auth.password = decodeURIComponent(u.password);
  const db = u.searchParams.get('db');
  if (db !== null) auth.db = Number(db);
  switch (u.protocol) {
    case 'redis:':
    case 'rediss:': {
      const pathDb = u.pathname.replace(/^\//, '');
      return {
        host: u.hostname || '127.0.0.1',
        port: Number(u.port || 6379),
        ...(pathDb ? { db: Number(pathDb) } : {}),
        ...auth,
        ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
      };
    }
    case 'unix:':
      return { path: decodeURIComponent(u.pathname), ...auth };
    case 'redis+sentinel:': {
      // new URL() keeps only one host: read the list from the text itself.
      const m = /^redis\+sentinel:\/\/(?:[^@/]*@)?([^/?]+)\/([^/?]+)/.exec(url);
      if (!m) throw new UsageError(`--redis: a Sentinel URL is redis+sentinel://host:port[,host:port…]/master-name, got "${url}"`);
      const sentinels = (m[1] as string).split(',').map((hp) => {
        const [host, port] = hp.split(':');
        return { host: host as string, port: Number(port || 26379) };
      });
      return { sentinels, name: decodeURIComponent(m[2] as string), ...auth };
    }
    default:
      throw new UsageError(`--redis: unsupported scheme ${u.protocol} (redis:, rediss:, unix:, redis+sentinel:)`);
  }
}

/**
 * Connection errors while Redis is away are expected (ioredis reconnects and replays queued
 * commands): say so once per kind of error, not once per retry.
 */
function quietErrors(redis: Redis, name: string): Redis {
  let last = '';
  redis.on('error', (err: Error) => {
    if (err.message === last) return;
    last = err.message;
    process.stderr.write(`remedy: redis (${name}): ${err.message}; retrying\n`);
  });
  redis.on('ready', () => (last = ''));
  return redis;
}

/** A connection for commands (BullMQ needs maxRetriesPerRequest null on blocking connections). */
export function connect(target: RedisTarget, name: string): Redis {
  return quietErrors(new Redis({ ...target, maxRetriesPerRequest: null, connectionName: name, lazyConnect: false }), name);
}

/** Another connection like `redis` (for blocking reads: BLPOP, XREAD BLOCK). */
export function duplicate(redis: Redis, name: string): Redis {
  return quietErrors(redis.duplicate(), name);
}

/** Prefix of every key remedy writes (BullMQ's queues live under `${KEY_PREFIX}bull`). */
export const KEY_PREFIX = 'remedy:';

/** At start-up: Redis answers within `ms`, or a clear error (not endless reconnect messages). */
export async function ensureReachable(redis: Redis, what: string, ms = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RemedyError(`cannot reach Redis (${what}) within ${ms / 1000} s`)), ms);
  });
  try {
    await Promise.race([redis.ping(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
