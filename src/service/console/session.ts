// The web console's login: an API token typed once gives a cookie session (HttpOnly,
// SameSite=Strict, Secure behind https) stored in Redis, so every `serve` behind a load balancer
// knows it. The token itself is never stored: the session keeps the token's name and role.
// Every state-changing request made with the cookie must also carry the session's CSRF token
// (X-CSRF-Token header, or the `_csrf` field of a form); the login form has its own pre-session one.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Authenticator, Principal } from '../auth.js';
import { KEY_PREFIX } from '../redis.js';

export const SESSION_COOKIE = 'remedy_session';
export const LOGIN_COOKIE = 'remedy_login';
export const CSRF_HEADER = 'x-csrf-token';
/** A session lasts a working shift; logging in again is cheap. */
export const SESSION_TTL_S = 12 * 3600;
const LOGIN_TTL_S = 3600;
/** Failed logins per client address before it must wait: tokens are long, but guessing should be slow too. */
export const LOGIN_FAILURES_MAX = 10;
const LOGIN_FAILURES_WINDOW_S = 15 * 60;

export interface ConsoleSession extends Principal {
  csrf: string;
  createdAt: string;
}

/** Raised (status 403) when a cookie-authenticated POST lacks the session's CSRF token. */
export class CsrfError extends Error {
  readonly statusCode = 403;
  constructor(message = 'CSRF token missing or wrong: reload the page and try again') {
    super(message);
  }
}

const sessionKey = (id: string): string => `${KEY_PREFIX}console:session:${createHash('sha256').update(id).digest('hex')}`;
const failuresKey = (ip: string): string => `${KEY_PREFIX}console:login-failures:${ip}`;
const newSecret = (): string => randomBytes(32).toString('base64url');
const SAFE_METHODS = ['GET', 'HEAD', 'OPTIONS'];

export function sameSecret(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export interface SessionOptions {
  redis: Redis;
  auth: Authenticator;
  /** Cookies get `Secure` when the console is served over https (policy public_url / --public-url). */
  secure: boolean;
}

export class ConsoleSessions {
  readonly #o: SessionOptions;
  /** The principal of a request whose cookie session was checked by `resolve` (API routes). */
  readonly #resolved = new WeakMap<FastifyRequest, Principal>();

  constructor(o: SessionOptions) {
    this.#o = o;
  }

  /** The token's principal (hook tokens never log in), or null. */
  principalForToken(token: string): Principal | null {
    const p = this.#o.auth.api({ authorization: `Bearer ${token.trim()}` });
    return p ? { name: p.name, role: p.role } : null;
  }

  async create(principal: Principal): Promise<{ id: string; session: ConsoleSession }> {
    const id = newSecret();
    const session: ConsoleSession = { name: principal.name, role: principal.role, csrf: newSecret(), createdAt: new Date().toISOString() };
    await this.#o.redis.set(sessionKey(id), JSON.stringify(session), 'EX', SESSION_TTL_S);
    return { id, session };
  }

  async get(req: FastifyRequest): Promise<ConsoleSession | null> {
    const id = req.cookies[SESSION_COOKIE];
    if (!id || id.length > 200) return null;
    const raw = await this.#o.redis.get(sessionKey(id));
    return raw ? (JSON.parse(raw) as ConsoleSession) : null;
  }

  async destroy(req: FastifyRequest): Promise<void> {
    const id = req.cookies[SESSION_COOKIE];
    if (id) await this.#o.redis.del(sessionKey(id));
  }

  /**
   * For API requests without a bearer token: the cookie session stands in for one. A POST must
   * carry the session's CSRF token in X-CSRF-Token; without it the request is refused (403)
   * before any route runs.
   */
  async resolve(req: FastifyRequest): Promise<void> {
    const session = await this.get(req);
    if (!session) return;
    if (!SAFE_METHODS.includes(req.method)) this.checkCsrf(req, session, undefined);
    this.#resolved.set(req, { name: session.name, role: session.role });
  }

  principal(req: FastifyRequest): Principal | null {
    return this.#resolved.get(req) ?? null;
  }

  /** Throws CsrfError unless the header (or the form field) carries this session's token and any Origin is ours. */
  checkCsrf(req: FastifyRequest, session: Pick<ConsoleSession, 'csrf'>, formField: string | undefined): void {
    const header = req.headers[CSRF_HEADER];
    const given = typeof header === 'string' ? header : formField;
    if (!sameSecret(given, session.csrf)) throw new CsrfError();
    this.checkOrigin(req);
  }

  /** A browser names the page that sent a POST; one from another origin is refused even with a token. */
  checkOrigin(req: FastifyRequest): void {
    const origin = req.headers.origin;
    if (origin === undefined || origin === 'null') return;
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      throw new CsrfError(`Origin ${JSON.stringify(origin.slice(0, 100))} is not a URL`);
    }
    if (host !== req.headers.host) throw new CsrfError(`cross-origin request from ${origin.slice(0, 100)} refused`);
  }

  setSessionCookie(reply: FastifyReply, id: string): void {
    reply.setCookie(SESSION_COOKIE, id, { path: '/', httpOnly: true, sameSite: 'strict', secure: this.#o.secure, maxAge: SESSION_TTL_S });
  }

  clearSessionCookie(reply: FastifyReply): void {
    reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: this.#o.secure });
  }

  /** Seconds until this client may try again, or 0 (failures are counted per address in Redis, shared by every serve). */
  async loginBlockedFor(ip: string): Promise<number> {
    const key = failuresKey(ip);
    const n = Number((await this.#o.redis.get(key)) ?? 0);
    if (n < LOGIN_FAILURES_MAX) return 0;
    return Math.max(1, await this.#o.redis.ttl(key));
  }

  async loginFailed(ip: string): Promise<void> {
    const key = failuresKey(ip);
    const n = await this.#o.redis.incr(key);
    if (n === 1) await this.#o.redis.expire(key, LOGIN_FAILURES_WINDOW_S);
  }

  /** The login form's CSRF token: a random value in a short-lived cookie and in the form. */
  loginToken(req: FastifyRequest, reply: FastifyReply): string {
    const existing = req.cookies[LOGIN_COOKIE];
    const token = existing && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : newSecret();
    reply.setCookie(LOGIN_COOKIE, token, { path: '/login', httpOnly: true, sameSite: 'strict', secure: this.#o.secure, maxAge: LOGIN_TTL_S });
    return token;
  }

  checkLoginToken(req: FastifyRequest, formField: string | undefined): void {
    if (!sameSecret(req.cookies[LOGIN_COOKIE], formField)) throw new CsrfError('login form expired or CSRF token missing: reload the login page');
    this.checkOrigin(req);
  }
}
