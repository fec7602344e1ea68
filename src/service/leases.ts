// Host leases in Redis, with TTL and fencing tokens (Kleppmann's "How to do distributed locking"):
// `remedy:lease:<host>` holds {runId, owner, token} and expires after the TTL unless its holder
// renews it; `remedy:fence:<host>` only grows, and every new holder gets the next value. A lease
// is checked (by token, atomically in Lua) before each mutating command, so a worker that stalled
// past its TTL (GC pause, SIGSTOP, a partition) and whose run another worker took over finds a
// newer token and mutates nothing. Takeover: the same run may take its own lease over from a dead
// or stalled worker (a new token fences the old one); another run is refused while the lease lives.
import type { Redis } from 'ioredis';
import type { HostLeases, LeaseAttempt } from '../engine/lease.js';
import { KEY_PREFIX } from './redis.js';

export const DEFAULT_LEASE_TTL_MS = 30_000;

export const leaseKey = (host: string): string => `${KEY_PREFIX}lease:${host}`;
export const fenceKey = (host: string): string => `${KEY_PREFIX}fence:${host}`;

export interface LeaseHolder {
  runId: string;
  owner: string;
  token: number;
}

// KEYS: lease, fence. ARGV: runId, owner, ttlMs. → {1, token, previous-or-''} | {0, 0, holder}
const ACQUIRE = `
local cur = redis.call('GET', KEYS[1])
local previous = ''
if cur then
  local o = cjson.decode(cur)
  if o.runId ~= ARGV[1] then return {0, 0, cur} end
  previous = cur
end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], cjson.encode({runId = ARGV[1], owner = ARGV[2], token = token}), 'PX', tonumber(ARGV[3]))
return {1, token, previous}
`;

// KEYS: lease. ARGV: token, ttlMs (0: only check). → 1 | the current holder ('' when none)
const CHECK = `
local cur = redis.call('GET', KEYS[1])
if not cur then return '' end
if tonumber(cjson.decode(cur).token) ~= tonumber(ARGV[1]) then return cur end
if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2])) end
return 1
`;

// KEYS: lease. ARGV: token. Deletes only our own lease.
const RELEASE = `
local cur = redis.call('GET', KEYS[1])
if cur and tonumber(cjson.decode(cur).token) == tonumber(ARGV[1]) then return redis.call('DEL', KEYS[1]) end
return 0
`;

function describeHolder(text: string): string {
  if (text === '') return 'the lease expired and nobody holds it';
  try {
    const o = JSON.parse(text) as LeaseHolder;
    return `held by ${o.owner} for run ${o.runId} with fencing token ${o.token}`;
  } catch {
    return 'held by an unreadable lease';
  }
}

export interface RedisHostLeasesOptions {
  redis: Redis;
  runId: string;
  /** Who holds it: the worker's name. */
  owner: string;
  ttlMs?: number | undefined;
  /** Called once per host whose lease this run lost (found at a renewal or a check). */
  onLost?: ((host: string, why: string) => void) | undefined;
}

/** The leases of one run on one worker; renewed every third of the TTL while held. */
export class RedisHostLeases implements HostLeases {
  readonly #redis: Redis;
  readonly #runId: string;
  readonly #owner: string;
  readonly #ttlMs: number;
  readonly #onLost: ((host: string, why: string) => void) | undefined;
  readonly #held = new Map<string, number>();
  readonly #lost = new Map<string, string>();
  #timer: NodeJS.Timeout | null = null;

  constructor(o: RedisHostLeasesOptions) {
    this.#redis = o.redis;
    this.#runId = o.runId;
    this.#owner = o.owner;
    this.#ttlMs = o.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    this.#onLost = o.onLost;
  }

  /** Hosts whose lease this run lost, with why. */
  get lost(): ReadonlyMap<string, string> {
    return this.#lost;
  }

  /** The token this run holds for `host` (undefined: none). */
  tokenOf(host: string): number | undefined {
    return this.#held.get(host);
  }

  async acquire(host: string): Promise<LeaseAttempt> {
    const [ok, token, other] = (await this.#redis.eval(ACQUIRE, 2, leaseKey(host), fenceKey(host), this.#runId, this.#owner, this.#ttlMs)) as [
      number,
      number,
      string,
    ];
    if (ok !== 1) return { held: false, detail: `leased to another run: ${describeHolder(other)}` };
    this.#held.set(host, Number(token));
    this.#lost.delete(host);
    this.#startRenewing();
    return {
      held: true,
      token: Number(token),
      detail: other !== '' ? `taken over from ${JSON.parse(other).owner as string} (token ${JSON.parse(other).token as number})` : undefined,
    };
  }

  async check(host: string): Promise<string | null> {
    const lost = this.#lost.get(host);
    if (lost !== undefined) return lost;
    const token = this.#held.get(host);
    if (token === undefined) return `no lease on ${host}`;
    const r = (await this.#redis.eval(CHECK, 1, leaseKey(host), token, 0)) as number | string;
    if (r === 1) return null;
    return this.#markLost(host, token, String(r));
  }

  async release(host: string): Promise<void> {
    const token = this.#held.get(host);
    this.#held.delete(host);
    if (this.#held.size === 0) this.#stopRenewing();
    if (token !== undefined && !this.#lost.has(host)) await this.#redis.eval(RELEASE, 1, leaseKey(host), token);
  }

  /** Stops renewing; leases still held run out with their TTL (a worker going away). */
  close(): void {
    this.#stopRenewing();
  }

  /** Gives back every lease still ours (the end of the run on this worker), then stops renewing. */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.#held.keys()].map((h) => this.release(h).catch(() => undefined)));
    this.close();
  }

  /** Renews every held lease once; the hosts whose lease was gone are marked lost. */
  async renew(): Promise<void> {
    await Promise.all(
      [...this.#held].map(async ([host, token]) => {
        if (this.#lost.has(host)) return;
        const r = (await this.#redis.eval(CHECK, 1, leaseKey(host), token, this.#ttlMs)) as number | string;
        if (r !== 1) this.#markLost(host, token, String(r));
      }),
    );
  }

  #markLost(host: string, token: number, holder: string): string {
    const why = `lease on ${host} lost (this worker's fencing token ${token}; ${describeHolder(holder)})`;
    if (!this.#lost.has(host)) {
      this.#lost.set(host, why);
      this.#onLost?.(host, why);
    }
    return why;
  }

  #startRenewing(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.renew().catch(() => undefined), Math.max(50, Math.floor(this.#ttlMs / 3)));
    this.#timer.unref();
  }

  #stopRenewing(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
