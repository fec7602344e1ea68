// Run records in Redis, shared by every serve and worker: one hash per run (fields updated one
// by one, so a worker setting the outcome never clobbers a server recording a cancel), a sorted
// set ordering runs newest first, and one Redis Stream per run carrying its journal events.
import type { Redis } from 'ioredis';
import type { RunEvent, RunOutcome } from '../engine/events.js';
import type { Alert } from './alerts.js';
import type { RouteMode } from './policy-schema.js';
import { KEY_PREFIX } from './redis.js';

/** A service run's outcome: the engine's, or where it stands before it ends. */
export type ServiceOutcome = RunOutcome | 'queued' | 'running' | 'cancelled';
export const FINAL_OUTCOMES: readonly ServiceOutcome[] = [
  'resolved',
  'nothing-to-do',
  'escalated',
  'failed',
  'refused',
  'interrupted',
  'unreachable',
  'cancelled',
];

export interface PolicyDecision {
  /** The route that matched (its name, or routes[i]). */
  route: string | null;
  mode: RouteMode;
  queue: string;
  /** Why the run was refused or cancelled; null when it was enqueued. */
  reason: string | null;
  /** What budget, cooldown and breaker count against. */
  scope: string | null;
  scopeId?: string | undefined;
  /** A resolved run arms the breaker for this long (null: the route has no breaker). */
  breakerWindowMs?: number | null | undefined;
  /** approve mode: how long a run waits for its approval. */
  approvalTimeoutMs?: number | undefined;
  /** Who asked for a manual run. */
  requestedBy?: string | undefined;
}

export interface PendingApproval {
  step: string;
  hosts: string[];
  planHash: string;
  batch: number | null;
  commands: { host: string; command: string }[];
  diffs: Record<string, string>;
  requestedAt: string;
  /** How many rolling batches the step has (null: not rolling). */
  batchCount?: number | null | undefined;
}

export interface RunRecord {
  id: string;
  runbook: string;
  inventory: string;
  params: Record<string, string>;
  limit: string | null;
  outcome: ServiceOutcome;
  exitCode: number | null;
  cause: string | null;
  message: string | null;
  alert: (Pick<Alert, 'fingerprint' | 'source' | 'status' | 'labels' | 'annotations'> & { receivedAt: string }) | null;
  decision: PolicyDecision;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  planHash: string | null;
  hosts: Record<string, string>;
  approval: PendingApproval | null;
  worker: string | null;
  runDir: string | null;
  firstCommandAt: string | null;
}

const runKey = (id: string): string => `${KEY_PREFIX}run:${id}`;
export const eventsKey = (id: string): string => `${KEY_PREFIX}run:${id}:events`;
const INDEX = `${KEY_PREFIX}runs`;
const SEQ = `${KEY_PREFIX}runs:seq`;

/** Fields kept as JSON in the hash. */
const JSON_FIELDS = ['params', 'alert', 'decision', 'hosts', 'approval', 'exitCode', 'limit'] as const;

function encode(fields: Partial<RunRecord>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out[k] = (JSON_FIELDS as readonly string[]).includes(k) ? JSON.stringify(v) : v === null ? '' : String(v);
  }
  return out;
}

function decode(h: Record<string, string>): RunRecord | null {
  if (!h['id']) return null;
  const json = <T>(k: string, d: T): T => (h[k] ? (JSON.parse(h[k] as string) as T) : d);
  const str = (k: string): string | null => (h[k] ? (h[k] as string) : null);
  return {
    id: h['id'],
    runbook: h['runbook'] ?? '',
    inventory: h['inventory'] ?? '',
    params: json('params', {}),
    limit: json('limit', null),
    outcome: (h['outcome'] ?? 'queued') as ServiceOutcome,
    exitCode: json('exitCode', null),
    cause: str('cause'),
    message: str('message'),
    alert: json('alert', null),
    decision: json('decision', { route: null, mode: 'auto', queue: 'default', reason: null, scope: null }),
    createdAt: h['createdAt'] ?? '',
    startedAt: str('startedAt'),
    endedAt: str('endedAt'),
    planHash: str('planHash'),
    hosts: json('hosts', {}),
    approval: json('approval', null),
    worker: str('worker'),
    runDir: str('runDir'),
    firstCommandAt: str('firstCommandAt'),
  };
}

export interface RunFilter {
  outcome?: string | undefined;
  runbook?: string | undefined;
  host?: string | undefined;
  since?: number | undefined;
  limit?: number | undefined;
}

export class RunStore {
  readonly redis: Redis;
  constructor(redis: Redis) {
    this.redis = redis;
  }

  async create(record: RunRecord): Promise<void> {
    const seq = await this.redis.incr(SEQ);
    await this.redis.multi().hset(runKey(record.id), encode(record)).zadd(INDEX, seq, record.id).exec();
  }

  async update(id: string, fields: Partial<RunRecord>): Promise<void> {
    await this.redis.hset(runKey(id), encode(fields));
  }

  /** Sets the outcome only while the run has not ended (a cancel and a finish never both win). */
  async finish(id: string, fields: Partial<RunRecord> & { outcome: ServiceOutcome }): Promise<boolean> {
    const current = await this.get(id);
    if (!current || FINAL_OUTCOMES.includes(current.outcome)) return false;
    await this.update(id, { endedAt: new Date().toISOString(), ...fields });
    return true;
  }

  async get(id: string): Promise<RunRecord | null> {
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(id)) return null;
    return decode(await this.redis.hgetall(runKey(id)));
  }

  /** Newest first. */
  async list(filter: RunFilter = {}): Promise<RunRecord[]> {
    const want = Math.min(filter.limit ?? 100, 1000);
    const out: RunRecord[] = [];
    const page = 200;
    for (let start = 0; out.length < want; start += page) {
      const ids = await this.redis.zrevrange(INDEX, start, start + page - 1);
      if (ids.length === 0) break;
      const pipe = this.redis.pipeline();
      for (const id of ids) pipe.hgetall(runKey(id));
      const rows = (await pipe.exec()) ?? [];
      for (const [, h] of rows) {
        const r = decode(h as Record<string, string>);
        if (!r) continue;
        if (filter.since !== undefined && Date.parse(r.createdAt) < filter.since) return out;
        if (filter.outcome && r.outcome !== filter.outcome) continue;
        if (filter.runbook && r.runbook !== filter.runbook) continue;
        if (filter.host && !(filter.host in r.hosts) && r.limit !== filter.host) continue;
        out.push(r);
        if (out.length >= want) break;
      }
    }
    return out;
  }

  /** The run's journal events from its stream (after `after`, a stream id), with their ids. */
  async events(id: string, after = '-', count = 10_000): Promise<{ id: string; event: RunEvent }[]> {
    const start = after === '-' ? '-' : `(${after}`;
    const rows = await this.redis.xrange(eventsKey(id), start, '+', 'COUNT', count);
    return rows.map(([sid, fields]) => ({ id: sid, event: JSON.parse(fields[1] as string) as RunEvent }));
  }
}
