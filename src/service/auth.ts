// Who is calling: bearer tokens (API and hooks), HMAC-signed bodies (generic hooks) and PagerDuty
// V3 signatures. Secrets come from environment variables named in the policy; comparisons are
// constant-time. Roles: hook tokens only post alerts; viewer < operator < admin on the API.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { UsageError } from '../errors.js';
import type { Role, TokenPolicy } from './policy-schema.js';

export interface Principal {
  name: string;
  role: Role;
}

interface Credential extends Principal {
  scheme: TokenPolicy['scheme'];
  secret: Buffer;
}

export type Headers = Record<string, string | string[] | undefined>;

const RANK: Record<Exclude<Role, 'hook'>, number> = { viewer: 1, operator: 2, admin: 3 };

function digestEqual(a: Buffer, b: Buffer): boolean {
  // Hash first: timingSafeEqual needs equal lengths, and the length must not leak either.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export class Authenticator {
  readonly #credentials: Credential[];

  constructor(tokens: readonly TokenPolicy[], env: NodeJS.ProcessEnv = process.env) {
    const missing = tokens.filter((t) => !env[t.env]);
    if (missing.length > 0) {
      throw new UsageError(
        `policy: token${missing.length > 1 ? 's' : ''} ${missing.map((t) => `${t.name} (${t.env})`).join(', ')}: environment variable not set or empty`,
      );
    }
    this.#credentials = tokens.map((t) => ({ name: t.name, role: t.role, scheme: t.scheme, secret: Buffer.from(env[t.env] as string) }));
  }

  /** The caller of an API route needing `min`, or null (401). Hook tokens never reach the API. */
  api(headers: Headers): Principal | null {
    const bearer = this.#bearer(headers);
    return bearer && bearer.role !== 'hook' ? bearer : null;
  }

  static allows(principal: Principal, min: Exclude<Role, 'hook'>): boolean {
    return principal.role !== 'hook' && RANK[principal.role] >= RANK[min];
  }

  /** The caller of a hook: a hook or admin bearer token, or a valid body signature. */
  hook(headers: Headers, rawBody: Buffer): Principal | null {
    const bearer = this.#bearer(headers);
    if (bearer && (bearer.role === 'hook' || bearer.role === 'admin')) return bearer;
    const hmac = header(headers, 'x-remedy-signature');
    if (hmac !== undefined) {
      const m = /^sha256=([0-9a-f]{64})$/i.exec(hmac.trim());
      if (m) {
        const given = Buffer.from((m[1] as string).toLowerCase());
        for (const c of this.#credentials) {
          if (c.scheme !== 'hmac') continue;
          if (digestEqual(Buffer.from(createHmac('sha256', c.secret).update(rawBody).digest('hex')), given)) return c;
        }
      }
    }
    const pd = header(headers, 'x-pagerduty-signature');
    if (pd !== undefined) {
      // "v1=<hex>,v1=<hex>": several during a secret rotation; any one valid is enough.
      const sigs = pd
        .split(',')
        .map((s) => s.trim())
        .filter((s) => /^v1=[0-9a-f]{64}$/i.test(s))
        .map((s) => Buffer.from(s.slice(3).toLowerCase()));
      for (const c of this.#credentials) {
        if (c.scheme !== 'pagerduty') continue;
        const want = Buffer.from(createHmac('sha256', c.secret).update(rawBody).digest('hex'));
        if (sigs.some((s) => digestEqual(s, want))) return c;
      }
    }
    return null;
  }

  #bearer(headers: Headers): Credential | null {
    const auth = header(headers, 'authorization');
    if (auth === undefined) return null;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (!m) return null;
    const given = Buffer.from(m[1] as string);
    let found: Credential | null = null;
    // Compare against every bearer credential, so timing does not tell which one matched.
    for (const c of this.#credentials) if (c.scheme === 'bearer' && digestEqual(c.secret, given) && found === null) found = c;
    return found;
  }
}
