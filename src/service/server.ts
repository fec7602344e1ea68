// The HTTP side of `remedy serve` (Fastify): alert intake under /hooks, the JSON API under /api,
// /healthz and /metrics. Every body is read raw (signatures are over the exact bytes) and parsed
// here, so any malformed or hostile body is a 4xx with a reason and never reaches further in.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import * as z from 'zod';
import type { RunEvent } from '../engine/events.js';
import { buildReportModel } from '../journal/report-model.js';
import { renderReport, REPORT_FORMATS, type ReportFormat } from '../journal/report.js';
import { BadAlertError, PARSERS } from './alerts.js';
import { approvalsKey, type ApprovalMessage } from './api-approval.js';
import { Authenticator, type Principal } from './auth.js';
import type { ConsoleSessions } from './console/session.js';
import type { Intake } from './intake.js';
import type { Metrics } from './metrics.js';
import { MODES, SOURCES, type AlertSource } from './policy-schema.js';
import type { Queues } from './queue.js';
import { jobIdFor } from './queue.js';
import { duplicate, KEY_PREFIX } from './redis.js';
import type { Safety } from './safety.js';
import { eventsKey, FINAL_OUTCOMES, type RunStore } from './store.js';

export interface ServerDeps {
  auth: Authenticator;
  intake: Intake;
  store: RunStore;
  safety: Safety;
  queues: Queues;
  metrics: Metrics;
  redis: Redis;
  log: (line: string) => void;
  /** The web console's cookie sessions: they stand in for a bearer token on the API (console/). */
  sessions?: ConsoleSessions | undefined;
}

export const CANCEL_CHANNEL = `${KEY_PREFIX}cancel`;
export const cancelKey = (runId: string): string => `${KEY_PREFIX}cancel:${runId}`;
const BODY_LIMIT = 1024 * 1024;

class HttpError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.statusCode = statusCode;
  }
}

function jsonBody(req: FastifyRequest): unknown {
  const raw = req.body;
  const type = String(req.headers['content-type'] ?? '');
  if (!/^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i.test(type))
    throw new HttpError(415, `expected Content-Type: application/json, got ${type ? JSON.stringify(type.slice(0, 100)) : 'none'}`);
  if (!Buffer.isBuffer(raw) || raw.length === 0) throw new HttpError(400, 'empty body: expected a JSON document');
  try {
    // A `__proto__` key is never data remedy reads: refuse it rather than risk a polluted prototype.
    return JSON.parse(raw.toString('utf8'), (key, value: unknown) => {
      if (key === '__proto__') throw new HttpError(400, 'forbidden key "__proto__" in the body');
      return value;
    }) as unknown;
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(400, `body is not JSON: ${(err as Error).message.slice(0, 200)}`);
  }
}

function parseBody<T>(schema: z.ZodType<T>, req: FastifyRequest): T {
  const r = schema.safeParse(jsonBody(req));
  if (!r.success) {
    const i = r.error.issues[0];
    throw new HttpError(400, `${i && i.path.length > 0 ? i.path.join('.') : 'body'}: ${i?.message ?? 'invalid'}`);
  }
  return r.data;
}

const ManualRun = z.object({
  runbook: z.string().min(1).max(256),
  route: z.string().min(1).max(256).optional(),
  params: z
    .record(
      z
        .string()
        .regex(/^[a-z][a-z0-9_]*$/)
        .max(128),
      z.string().max(4096),
    )
    .default({}),
  limit: z.string().min(1).max(4096).optional(),
  mode: z.enum(MODES).optional(),
});

const Approval = z.object({
  step: z.string().min(1).max(256),
  hosts: z.array(z.string().min(1).max(256)).max(10_000).optional(),
  decision: z.enum(['approved', 'skipped', 'refused']),
  planHash: z.string().min(1).max(200),
  comment: z.string().max(4096).optional(),
  /** With decision approved: later rolling batches of this step run without asking again. */
  remaining: z.boolean().optional(),
});

const RunsQuery = z.object({
  outcome: z.string().max(64).optional(),
  runbook: z.string().max(256).optional(),
  host: z.string().max(256).optional(),
  since: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

export function buildServer(d: ServerDeps): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT, return503OnClosing: true, forceCloseConnections: true });
  // Raw bytes for every content type: signatures are checked on them, and each route decides
  // what it accepts (an unauthenticated request is a 401 whatever it sent).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) d.log(`remedy: ${req.method} ${req.url}: ${err.stack ?? err.message}`);
    void reply.code(status).send({ error: status >= 500 ? 'internal error (logged by the server)' : err.message });
  });
  app.setNotFoundHandler((req, reply) => void reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}` }));

  const caller = (req: FastifyRequest, min: 'viewer' | 'operator' | 'admin'): Principal => {
    const p = d.auth.api(req.headers) ?? d.sessions?.principal(req) ?? null;
    if (!p) throw new HttpError(401, 'missing or invalid bearer token');
    if (!Authenticator.allows(p, min)) throw new HttpError(403, `token ${p.name} (${p.role}) may not do this: needs ${min}`);
    return p;
  };
  const unauthorized = (reply: FastifyReply): FastifyReply => reply.header('www-authenticate', 'Bearer realm="remedy"');

  app.post<{ Params: { source: string } }>('/hooks/:source', async (req, reply) => {
    const source = req.params.source as AlertSource;
    if (!(SOURCES as readonly string[]).includes(source))
      throw new HttpError(404, `no intake ${JSON.stringify(req.params.source.slice(0, 64))}: ${SOURCES.join(', ')}`);
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!d.auth.hook(req.headers, raw)) {
      unauthorized(reply);
      throw new HttpError(401, 'missing or invalid credentials (bearer token or body signature)');
    }
    let alerts;
    try {
      alerts = PARSERS[source](jsonBody(req));
    } catch (err) {
      if (err instanceof BadAlertError) throw new HttpError(400, err.message);
      throw err;
    }
    const results = [];
    for (const alert of alerts) results.push(await d.intake.handle(alert));
    return reply.code(202).send({ results });
  });

  app.get('/api/runs', async (req) => {
    caller(req, 'viewer');
    const q = RunsQuery.safeParse(req.query);
    if (!q.success) throw new HttpError(400, `query: ${q.error.issues[0]?.path.join('.')}: ${q.error.issues[0]?.message}`);
    let since: number | undefined;
    if (q.data.since !== undefined) {
      since = /^\d+$/.test(q.data.since) ? Number(q.data.since) : Date.parse(q.data.since);
      if (Number.isNaN(since)) throw new HttpError(400, `since: expected an ISO-8601 time or epoch milliseconds, got ${JSON.stringify(q.data.since)}`);
    }
    return { runs: await d.store.list({ ...q.data, since }) };
  });

  const runOr404 = async (id: string) => {
    const run = await d.store.get(id);
    if (!run) throw new HttpError(404, `no run ${JSON.stringify(id.slice(0, 128))}`);
    return run;
  };

  app.get<{ Params: { id: string } }>('/api/runs/:id', async (req) => {
    caller(req, 'viewer');
    return runOr404(req.params.id);
  });

  app.get<{ Params: { id: string }; Querystring: { format?: string } }>('/api/runs/:id/report', async (req, reply) => {
    caller(req, 'viewer');
    const run = await runOr404(req.params.id);
    const format = (req.query.format ?? 'markdown') as ReportFormat;
    if (!(REPORT_FORMATS as readonly string[]).includes(format)) throw new HttpError(400, `format: expected ${REPORT_FORMATS.join(', ')}`);
    const events = (await d.store.events(run.id)).map((e) => e.event);
    if (events.length === 0) throw new HttpError(409, `run ${run.id} has no journal: ${run.outcome}${run.message ? ` (${run.message})` : ''}`);
    const text = renderReport(buildReportModel(events, { runDir: run.runDir ?? undefined }), format);
    const type = format === 'html' ? 'text/html; charset=utf-8' : format === 'json' ? 'application/json' : 'text/markdown; charset=utf-8';
    return reply.type(type).send(text);
  });

  app.get<{ Params: { id: string } }>('/api/runs/:id/events', async (req, reply) => {
    caller(req, 'viewer');
    const run = await runOr404(req.params.id);
    const lastHeader = req.headers['last-event-id'];
    const last0 = typeof lastHeader === 'string' && /^\d{1,20}-\d{1,20}$/.test(lastHeader) ? lastHeader : '0-0';
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const conn = duplicate(d.redis, `events ${run.id}`);
    let closed = false;
    req.raw.on('close', () => {
      closed = true;
      conn.disconnect();
    });
    const send = (id: string, event: RunEvent): void => void res.write(`id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    let last = last0;
    try {
      for (;;) {
        type XRead = [string, [string, string[]][]][] | null;
        let rows = ((await conn.xread('COUNT', 500, 'STREAMS', eventsKey(run.id), last)) as XRead)?.[0]?.[1] ?? [];
        if (rows.length === 0) {
          // Everything sent: a run that has ended ends the stream; otherwise wait for more.
          const now = await d.store.get(run.id);
          if (!now || FINAL_OUTCOMES.includes(now.outcome)) break;
          rows = ((await conn.xread('COUNT', 500, 'BLOCK', 10_000, 'STREAMS', eventsKey(run.id), last)) as XRead)?.[0]?.[1] ?? [];
          if (rows.length === 0) res.write(': keep-alive\n\n');
        }
        if (closed) return;
        for (const [sid, fields] of rows) {
          send(sid, JSON.parse(fields[1] as string) as RunEvent);
          last = sid;
        }
      }
    } catch (err) {
      if (!closed) d.log(`remedy: events of ${run.id}: ${(err as Error).message}`);
    } finally {
      if (!closed) res.end();
      conn.disconnect();
    }
  });

  app.post('/api/runs', async (req, reply) => {
    const who = caller(req, 'operator');
    const body = parseBody(ManualRun, req);
    const r = await d.intake.manual({ ...body, requestedBy: who.name });
    if ('error' in r) throw new HttpError(400, r.error);
    return reply.code(202).send(r.run);
  });

  app.post<{ Params: { id: string } }>('/api/runs/:id/approvals', async (req, reply) => {
    const who = caller(req, 'operator');
    const body = parseBody(Approval, req);
    const run = await runOr404(req.params.id);
    const pending = run.approval;
    if (!pending || FINAL_OUTCOMES.includes(run.outcome)) throw new HttpError(409, `run ${run.id} is not waiting for an approval (${run.outcome})`);
    if (body.step !== pending.step) throw new HttpError(409, `run ${run.id} waits for step ${pending.step}, not ${body.step}`);
    if (body.planHash !== pending.planHash)
      throw new HttpError(409, `plan hash differs: the run's plan is ${pending.planHash}; review it again before approving`);
    const outside = (body.hosts ?? []).filter((h) => !pending.hosts.includes(h));
    if (outside.length > 0) throw new HttpError(400, `hosts not part of this approval: ${outside.join(', ')} (it covers ${pending.hosts.join(', ')})`);
    const message: ApprovalMessage = {
      step: pending.step,
      batch: pending.batch,
      planHash: pending.planHash,
      decision: body.decision,
      hosts: body.hosts ?? pending.hosts,
      operator: who.name,
      comment: body.comment ?? null,
      remaining: body.remaining === true && body.decision === 'approved',
    };
    await d.redis.rpush(approvalsKey(run.id), JSON.stringify(message));
    d.log(`remedy: run ${run.id}: ${body.decision} step ${pending.step} by ${who.name}${body.comment ? `: ${body.comment}` : ''}`);
    return reply.code(202).send({ run: run.id, step: pending.step, decision: body.decision, operator: who.name });
  });

  app.post<{ Params: { id: string } }>('/api/runs/:id/cancel', async (req, reply) => {
    const who = caller(req, 'operator');
    const run = await runOr404(req.params.id);
    if (FINAL_OUTCOMES.includes(run.outcome)) throw new HttpError(409, `run ${run.id} has already ended (${run.outcome})`);
    if (run.outcome === 'queued' && (await d.queues.removeWaiting(run.decision.queue, jobIdFor(run.id, run.alert?.fingerprint ?? null)))) {
      await d.store.finish(run.id, { outcome: 'cancelled', message: `cancelled by ${who.name} before it started` });
      d.metrics.runs.inc({ outcome: 'cancelled' });
      return reply.code(202).send({ run: run.id, outcome: 'cancelled' });
    }
    // Running somewhere: the worker holding it is told through pub/sub (and the key, for a worker just starting it).
    await d.redis.set(cancelKey(run.id), who.name, 'EX', 86_400);
    await d.redis.publish(CANCEL_CHANNEL, run.id);
    return reply.code(202).send({ run: run.id, outcome: 'cancelling' });
  });

  app.get('/api/breakers', async (req) => {
    caller(req, 'viewer');
    return { breakers: await d.safety.breakers() };
  });

  app.post<{ Params: { id: string } }>('/api/breakers/:id/reset', async (req, reply) => {
    const who = caller(req, 'admin');
    if (!(await d.safety.resetBreaker(req.params.id))) throw new HttpError(404, `no open breaker ${JSON.stringify(req.params.id.slice(0, 64))}`);
    d.log(`remedy: breaker ${req.params.id} reset by ${who.name}`);
    return reply.code(200).send({ breaker: req.params.id, reset: true, by: who.name });
  });

  app.get('/healthz', async (_req, reply) => {
    try {
      await d.redis.ping();
      return { status: 'ok' };
    } catch (err) {
      return reply.code(503).send({ status: 'redis unavailable', error: (err as Error).message });
    }
  });

  app.get('/metrics', async (_req, reply) => reply.type(d.metrics.registry.contentType).send(await d.metrics.registry.metrics()));

  return app;
}
