// remedy serve: the alert-driven service (HTTP intake, API, policy, queue) and remedy worker:
// a runner for one region's queue. Both run runbooks through the same session as remedy run.
import { type Command, Option } from 'commander';
import { UsageError } from '../../errors.js';
import { action } from '../exit.js';

// Fastify, BullMQ and ioredis load only when serve or worker runs (`remedy --help` loads every command).
const FSYNC_POLICIES = ['everysec', 'always'] as const;
type FsyncPolicy = (typeof FSYNC_POLICIES)[number];

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new UsageError(`--concurrency: expected a whole number from 1 to 1000, got "${value}"`);
  return n;
}

function parseLockMs(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1000) throw new UsageError(`--lock-duration: expected milliseconds (1000 or more), got "${value}"`);
  return n;
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** Runs until SIGINT or SIGTERM, then closes. */
async function untilSignal(close: () => Promise<void>): Promise<number> {
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  log(`remedy: ${signal}: stopping`);
  await close();
  return 0;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description(
      'Run the alert-driven service: webhooks in, policy checks, runs on BullMQ workers, a JSON API and a web console at /. Without --redis it starts a private redis-server and an in-process worker.',
    )
    .requiredOption('--policy <file>', 'the policy (routes, tokens, budgets, notifications): see schema/policy.schema.json')
    .option('--listen <host:port>', 'where the HTTP server listens', '127.0.0.1:8470')
    .option('--data <dir>', 'data directory: run directories, and the embedded redis-server (socket, AOF)', 'remedy-data')
    .option(
      '--redis <url>',
      'join a cluster through this Redis (redis://, rediss://, unix:///path, redis+sentinel://h:26379,h2:26379/master) instead of starting one',
    )
    .option(
      '--work <queues>',
      'queues the in-process worker serves, comma-separated (default: every route\'s queue without --redis, none with it; "" for none)',
    )
    .option('--concurrency <n>', 'runs at once in the in-process worker', parseCount, 4)
    .addOption(
      new Option(
        '--redis-fsync <policy>',
        'embedded redis-server AOF fsync: everysec (up to 1 s of acknowledged writes lost on power loss) or always (none, slower)',
      )
        .choices(FSYNC_POLICIES)
        .default('everysec'),
    )
    .option('--public-url <url>', "base URL of this API for links in notifications (default: the policy's public_url, else http://<listen>)")
    .option('--lock-duration <ms>', 'job lock: a worker silent this long is considered dead and its run taken over', parseLockMs, 30_000)
    .addHelpText(
      'after',
      '\nExample:\n  REMEDY_HOOK_TOKEN=… REMEDY_OPERATOR_TOKEN=… remedy serve --policy remedy.policy.yaml --listen 127.0.0.1:8470 --data /var/lib/remedy\n',
    )
    .action(
      action(
        async (opts: {
          policy: string;
          listen: string;
          data: string;
          redis?: string;
          work?: string;
          concurrency: number;
          redisFsync: FsyncPolicy;
          publicUrl?: string;
          lockDuration: number;
        }) => {
          const { startServe } = await import('../../service/serve.js');
          const s = await startServe({
            policyFile: opts.policy,
            listen: opts.listen,
            dataDir: opts.data,
            redisUrl: opts.redis,
            work:
              opts.work === undefined
                ? undefined
                : opts.work
                    .split(',')
                    .map((q) => q.trim())
                    .filter(Boolean),
            concurrency: opts.concurrency,
            fsync: opts.redisFsync,
            publicUrl: opts.publicUrl,
            lockDurationMs: opts.lockDuration,
            log,
          });
          log(`remedy serve: listening on ${s.url}${s.redisPid !== null ? ` (embedded redis-server pid ${s.redisPid} on ${s.redisSocket})` : ''}`);
          return untilSignal(s.close);
        },
      ),
    );

  program
    .command('worker')
    .description('Run jobs from one queue (one per region or data centre): the worker reaches Redis and its own hosts only.')
    .requiredOption('--redis <url>', "the cluster's Redis (redis://, rediss://, unix:///path, redis+sentinel://…)")
    .requiredOption('--queue <name>', 'the queue to take runs from, e.g. dc-1')
    .option('--concurrency <n>', 'runs at once', parseCount, 4)
    .option('--data <dir>', 'where run directories go', 'remedy-data')
    .option('--policy <file>', 'the policy, for its notification webhooks (the worker sends run outcomes)')
    .option('--name <name>', 'worker name recorded with its runs (default host:pid)')
    .option('--lock-duration <ms>', 'job lock: a worker silent this long is considered dead and its run taken over', parseLockMs, 30_000)
    .option('--metrics-listen <host:port>', "serve this worker's Prometheus /metrics (its runs, latency, queue depth, leases lost) and /healthz here")
    .addHelpText('after', '\nExample:\n  remedy worker --redis redis://redis.internal:6379 --queue dc-1 --concurrency 8 --metrics-listen 10.0.1.5:9470\n')
    .action(
      action(
        async (opts: {
          redis: string;
          queue: string;
          concurrency: number;
          data: string;
          policy?: string;
          name?: string;
          lockDuration: number;
          metricsListen?: string;
        }) => {
          if (!/^[A-Za-z0-9_.-]+$/.test(opts.queue)) throw new UsageError(`--queue: letters, digits, ., _ and - only, got "${opts.queue}"`);
          const [{ loadPolicy }, { Notifier }, { parseRedisUrl }, { startWorkerHost }, { parseListen }] = await Promise.all([
            import('../../service/policy.js'),
            import('../../service/notify.js'),
            import('../../service/redis.js'),
            import('../../service/worker-host.js'),
            import('../../service/serve.js'),
          ]);
          const metricsListen = opts.metricsListen !== undefined ? parseListen(opts.metricsListen, '--metrics-listen') : undefined;
          const policy = opts.policy !== undefined ? loadPolicy(opts.policy).policy : null;
          const notifier = policy ? new Notifier(policy.notify, policy.public_url ?? 'http://remedy', log) : null;
          const w = await startWorkerHost({
            target: parseRedisUrl(opts.redis),
            queues: [opts.queue],
            concurrency: opts.concurrency,
            dataDir: opts.data,
            notifier,
            metrics: null,
            lockDurationMs: opts.lockDuration,
            name: opts.name,
            redisLabel: opts.redis,
            metricsListen,
            log,
          });
          log(`remedy worker ${w.name}: taking runs from queue ${opts.queue}${w.metricsUrl ? ` (metrics on ${w.metricsUrl})` : ''}`);
          return untilSignal(w.close);
        },
      ),
    );
}
