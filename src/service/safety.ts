// The checks that run before anything is enqueued, on Redis so every serve instance shares
// them: one run per alert fingerprint while it fires, maintenance windows, the breaker, the
// cooldown and the budget (a sliding window). Cooldown and budget are one Lua script: two
// alerts arriving together cannot both take the last slot.
import type { Redis } from 'ioredis';
import { durationMs } from '../runbook/duration.js';
import type { Alert } from './alerts.js';
import type { Policy, RoutePolicy } from './policy-schema.js';
import { KEY_PREFIX } from './redis.js';

/** How long a fingerprint counts as firing when no resolved notification ever comes. */
const FIRING_TTL_S = 24 * 3600;

const firingKey = (fp: string): string => `${KEY_PREFIX}firing:${fp}`;
const endedKey = (fp: string): string => `${KEY_PREFIX}ended:${fp}`;
const budgetKey = (scopeId: string): string => `${KEY_PREFIX}budget:${scopeId}`;
const cooldownKey = (scopeId: string): string => `${KEY_PREFIX}cooldown:${scopeId}`;
const fixedKey = (scopeId: string): string => `${KEY_PREFIX}breaker:fixed:${scopeId}`;
const breakerKey = (scopeId: string): string => `${KEY_PREFIX}breaker:open:${scopeId}`;
const BREAKERS = `${KEY_PREFIX}breakers`;

export interface Breaker {
  id: string;
  route: string;
  scope: string;
  trippedAt: string;
  /** The run that resolved the alert before it fired again. */
  resolvedRun: string;
  /** The run refused when it tripped. */
  refusedRun: string;
  fingerprint: string;
}

const ADMIT = `
local cooldown = redis.call('PTTL', KEYS[1])
if cooldown > 0 then return {'cooldown', cooldown} end
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
if max > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
  local used = redis.call('ZCARD', KEYS[2])
  if used >= max then
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return {'budget', used, tonumber(oldest[2]) + window - now}
  end
  redis.call('ZADD', KEYS[2], now, ARGV[5])
  redis.call('PEXPIRE', KEYS[2], window)
end
local cd = tonumber(ARGV[4])
if cd > 0 then redis.call('SET', KEYS[1], ARGV[5], 'PX', cd) end
return {'ok'}
`;

export type Admission = { ok: true } | { ok: false; kind: 'cooldown' | 'budget'; reason: string };

function human(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.ceil(s / 60);
  return m < 120 ? `${m}m` : `${Math.ceil(m / 60)}h`;
}

export class Safety {
  private readonly redis: Redis;
  constructor(redis: Redis) {
    this.redis = redis;
  }

  /** Claims the fingerprint for this run; returns the run already holding it, if any. */
  async claimFiring(fingerprint: string, runId: string): Promise<string | null> {
    const set = await this.redis.set(firingKey(fingerprint), runId, 'EX', FIRING_TTL_S, 'NX');
    if (set === 'OK') return null;
    return (await this.redis.get(firingKey(fingerprint))) ?? null;
  }

  /**
   * The alert resolved: the fingerprint is free again; returns the run that held it. The
   * episode that ended (its startsAt) is remembered, so a late copy of its firing notification
   * is not taken for a recurrence.
   */
  async releaseFiring(fingerprint: string, startsAt: string | null = null): Promise<string | null> {
    if (startsAt !== null) await this.redis.set(endedKey(fingerprint), startsAt, 'EX', FIRING_TTL_S);
    return (await this.redis.getdel(firingKey(fingerprint))) ?? null;
  }

  /**
   * True when this firing notification belongs to an episode already resolved (same fingerprint,
   * same startsAt): Alertmanager re-sends a group's alerts when the group changes, and in an HA
   * pair one replica's firing copy can arrive after the other's resolved. A real recurrence
   * starts a new episode with a new startsAt.
   */
  async endedEpisode(fingerprint: string, startsAt: string | null): Promise<boolean> {
    if (startsAt === null) return false;
    return (await this.redis.get(endedKey(fingerprint))) === startsAt;
  }

  maintenance(policy: Policy, alert: Pick<Alert, 'labels'>, now = Date.now()): string | null {
    for (const w of policy.maintenance) {
      if (now < Date.parse(w.start) || now >= Date.parse(w.end)) continue;
      if (Object.entries(w.match).every(([k, v]) => alert.labels[k] === v)) return `maintenance window "${w.name}" until ${w.end}`;
    }
    return null;
  }

  async admit(route: RoutePolicy, scopeId: string, runId: string, now = Date.now()): Promise<Admission> {
    const window = route.budget ? durationMs(route.budget.per) : 0;
    const max = route.budget?.max ?? 0;
    const cooldown = route.cooldown ? durationMs(route.cooldown) : 0;
    const r = (await this.redis.eval(ADMIT, 2, cooldownKey(scopeId), budgetKey(scopeId), now, window, max, cooldown, runId)) as [string, number?, number?];
    if (r[0] === 'ok') return { ok: true };
    if (r[0] === 'cooldown')
      return {
        ok: false,
        kind: 'cooldown',
        reason: `cooldown: another run for this scope started less than ${route.cooldown} ago (${human(Number(r[1]))} left)`,
      };
    return {
      ok: false,
      kind: 'budget',
      reason: `budget exhausted: ${r[1]} of ${max} runs per ${route.budget?.per} used (next slot in ${human(Number(r[2]))})`,
    };
  }

  /** Runs this scope has used of its route's budget window now (the console's policy page). */
  async budgetUsed(route: RoutePolicy, scopeId: string, now = Date.now()): Promise<number> {
    if (!route.budget) return 0;
    return this.redis.zcount(budgetKey(scopeId), `(${now - durationMs(route.budget.per)}`, '+inf');
  }

  /** A run of this scope resolved: a new firing within the breaker window trips it. */
  async markResolved(scopeId: string, runId: string, windowMs: number): Promise<void> {
    await this.redis.set(fixedKey(scopeId), runId, 'PX', windowMs);
  }

  async openBreaker(scopeId: string): Promise<Breaker | null> {
    const v = await this.redis.get(breakerKey(scopeId));
    return v ? (JSON.parse(v) as Breaker) : null;
  }

  /** Trips the breaker when this scope's last run resolved within the window; returns it then. */
  async tripOnRecurrence(route: RoutePolicy, info: Omit<Breaker, 'resolvedRun' | 'trippedAt'>): Promise<Breaker | null> {
    if (route.breaker === false) return null;
    const resolvedRun = await this.redis.get(fixedKey(info.id));
    if (!resolvedRun) return null;
    const breaker: Breaker = { ...info, resolvedRun, trippedAt: new Date().toISOString() };
    await this.redis.multi().set(breakerKey(info.id), JSON.stringify(breaker)).sadd(BREAKERS, info.id).exec();
    return breaker;
  }

  async breakers(): Promise<Breaker[]> {
    const ids = await this.redis.smembers(BREAKERS);
    const out: Breaker[] = [];
    for (const id of ids) {
      const b = await this.openBreaker(id);
      if (b) out.push(b);
      else await this.redis.srem(BREAKERS, id);
    }
    return out.sort((a, b) => b.trippedAt.localeCompare(a.trippedAt));
  }

  /** Closes the breaker (and forgets the resolved run that armed it). False when it was not open. */
  async resetBreaker(id: string): Promise<boolean> {
    if (!/^[0-9a-f]{24}$/.test(id)) return false;
    const [[, deleted]] = ((await this.redis.multi().del(breakerKey(id)).del(fixedKey(id)).srem(BREAKERS, id).exec()) ?? [[null, 0]]) as [[unknown, number]];
    return deleted === 1;
  }
}
