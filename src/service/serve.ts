// `remedy serve` assembled: the policy, Redis (the embedded private redis-server unless --redis
// names a cluster's), the HTTP server and, by default, an in-process worker for every queue the
// routes name. close() stops all of it, the embedded redis-server last, by its PID.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { Authenticator } from './auth.js';
import { registerConsole } from './console/routes.js';
import { ConsoleSessions } from './console/session.js';
import { startEmbeddedRedis, type EmbeddedRedis, type FsyncPolicy } from './embedded-redis.js';
import { Intake } from './intake.js';
import { Metrics } from './metrics.js';
import { Notifier } from './notify.js';
import { loadPolicy } from './policy.js';
import { Queues } from './queue.js';
import { connect, ensureReachable, parseRedisUrl, type RedisTarget } from './redis.js';
import { Safety } from './safety.js';
import { buildServer } from './server.js';
import { RunStore } from './store.js';
import { startWorkerHost, type WorkerHost } from './worker-host.js';

export interface ServeOptions {
  policyFile: string;
  listen: string;
  dataDir: string;
  redisUrl?: string | undefined;
  /** Queues the in-process worker serves (default: every route's queue without --redis, none with it). */
  work?: string[] | undefined;
  concurrency: number;
  fsync: FsyncPolicy;
  publicUrl?: string | undefined;
  lockDurationMs?: number | undefined;
  log: (line: string) => void;
  /** Where token secrets are read from (default process.env). */
  env?: NodeJS.ProcessEnv | undefined;
}

export interface RunningServe {
  url: string;
  redisPid: number | null;
  redisSocket: string | null;
  close(): Promise<void>;
}

export function parseListen(text: string, option = '--listen'): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new UsageError(`${option}: expected HOST:PORT such as 127.0.0.1:8470, got "${text}"`);
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
}

export async function startServe(o: ServeOptions): Promise<RunningServe> {
  const { policy } = loadPolicy(o.policyFile);
  const auth = new Authenticator(policy.auth.tokens, o.env ?? process.env);
  const listen = parseListen(o.listen);
  const dataDir = resolve(o.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  let embedded: EmbeddedRedis | null = null;
  let target: RedisTarget;
  if (o.redisUrl !== undefined) target = parseRedisUrl(o.redisUrl);
  else {
    embedded = await startEmbeddedRedis(dataDir, { fsync: o.fsync });
    target = { path: embedded.socket };
  }
  const redis = connect(target, 'remedy-serve');
  let worker: WorkerHost | null = null;
  let app: ReturnType<typeof buildServer> | null = null;
  const close = async (): Promise<void> => {
    await app?.close().catch(() => undefined);
    await worker?.close().catch(() => undefined);
    await queues.close().catch(() => undefined);
    await redis.quit().catch(() => undefined);
    await embedded?.stop();
  };
  const queues = new Queues(redis);
  try {
    await ensureReachable(redis, o.redisUrl ?? `embedded, ${embedded?.socket ?? ''}`);
    const routeQueues = [...new Set(policy.routes.map((r) => r.queue))];
    for (const q of routeQueues) queues.get(q);
    const metrics = new Metrics(() => queues.depth());
    const baseUrl = o.publicUrl ?? policy.public_url ?? `http://${o.listen}`;
    const notifier = new Notifier(policy.notify, baseUrl, o.log);
    const store = new RunStore(redis);
    const safety = new Safety(redis);
    const intake = new Intake({ policy, store, safety, queues, notifier, metrics, log: o.log });
    const work = o.work ?? (o.redisUrl === undefined ? routeQueues : []);
    if (work.length > 0) {
      worker = await startWorkerHost({
        target,
        queues: work,
        concurrency: o.concurrency,
        dataDir,
        notifier,
        metrics,
        lockDurationMs: o.lockDurationMs,
        log: o.log,
      });
    }
    const sessions = new ConsoleSessions({ redis, auth, secure: baseUrl.startsWith('https:') });
    app = buildServer({ auth, intake, store, safety, queues, metrics, redis, log: o.log, sessions });
    await registerConsole(app, { sessions, store, safety, policy, log: o.log });
    const address = await app.listen({ host: listen.host, port: listen.port });
    return { url: address, redisPid: embedded?.pid ?? null, redisSocket: embedded?.socket ?? null, close };
  } catch (err) {
    await close();
    throw err;
  }
}
