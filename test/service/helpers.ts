// Shared by the service tests: a real `remedy serve` (in this process, embedded redis-server on a
// unix socket in a temp dir, stopped by PID on close), a local runbook whose hosts are reached
// with the local transport, and an HTTP receiver on loopback for notifications.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe, type RunningServe } from '../../src/service/serve.js';

export const TOKENS = {
  hook: 'hook-secret-1',
  viewer: 'viewer-secret-2',
  operator: 'operator-secret-3',
  admin: 'admin-secret-4',
  hmac: 'hmac-secret-5',
  pagerduty: 'pd-secret-6',
};
export const ENV = {
  T_HOOK: TOKENS.hook,
  T_VIEWER: TOKENS.viewer,
  T_OPERATOR: TOKENS.operator,
  T_ADMIN: TOKENS.admin,
  T_HMAC: TOKENS.hmac,
  T_PD: TOKENS.pagerduty,
};
export const AUTH_YAML = `auth:
  tokens:
    - { name: am, env: T_HOOK, role: hook }
    - { name: dash, env: T_VIEWER, role: viewer }
    - { name: alice, env: T_OPERATOR, role: operator }
    - { name: root, env: T_ADMIN, role: admin }
    - { name: signer, env: T_HMAC, role: hook, scheme: hmac }
    - { name: pd, env: T_PD, role: hook, scheme: pagerduty }
`;

/** Reads a state file per host; when one says STUCK, fixes it (mutating, verified) and appends to `fixes`. */
export const FIX_RUNBOOK = `name: svc-fix
summary: read a state file, fix it when STUCK
params:
  root: { type: string, pattern: '^/[A-Za-z0-9/._-]+$' }
steps:
  - id: state
    name: read the state
    hosts: all
    run: cat {{ root }}/state
    capture:
      state: stdout
  - id: diagnose
    name: name the cause
    decide:
      causes:
        - cause: stuck
          when: hosts("all").exists(h, h.facts.state == "STUCK")
      default: none
  - id: healthy
    name: nothing to do
    when: cause == "none"
    outcome: { status: nothing-to-do, message: all good }
  - id: unstick
    name: unstick
    hosts: all
    when: facts.state == "STUCK"
    run: echo OK > {{ root }}/state && echo fixed >> {{ root }}/fixes
    mutates: true
    verify:
      run: grep -qx OK {{ root }}/state
  - id: done
    name: done
    outcome: { status: resolved, message: unstuck }
`;

export interface Workspace {
  dir: string;
  runbook: string;
  inventory: string;
  /** A fresh state dir (param root) holding `state`. */
  target(name: string, state: 'STUCK' | 'OK'): string;
}

export function workspace(): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'remedy-svc-'));
  const runbook = join(dir, 'svc-fix.yaml');
  writeFileSync(runbook, FIX_RUNBOOK);
  const inventory = join(dir, 'inventory.yaml');
  writeFileSync(inventory, 'all:\n  hosts:\n    local1: { ansible_connection: local }\n');
  return {
    dir,
    runbook,
    inventory,
    target(name, state) {
      const root = join(dir, 'targets', name);
      mkdirSync(root, { recursive: true });
      writeFileSync(join(root, 'state'), `${state}\n`);
      return root;
    },
  };
}

export interface TestServe extends RunningServe {
  logs: string[];
  policyFile: string;
  /** fetch against the server with a role's token. */
  call(
    path: string,
    init?: { method?: string; token?: string | null; body?: unknown; headers?: Record<string, string>; raw?: string | Buffer },
  ): Promise<{ status: number; json: any; text: string; headers: Headers }>;
}

export async function serve(ws: Workspace, policyYaml: string, options: { work?: string[]; name?: string; redisUrl?: string } = {}): Promise<TestServe> {
  const policyFile = join(ws.dir, `${options.name ?? 'policy'}.yaml`);
  writeFileSync(policyFile, policyYaml);
  const logs: string[] = [];
  const s = await startServe({
    policyFile,
    listen: '127.0.0.1:0',
    dataDir: join(ws.dir, `${options.name ?? 'policy'}-data`),
    concurrency: 4,
    fsync: 'everysec',
    work: options.work,
    redisUrl: options.redisUrl,
    log: (l) => void logs.push(l),
    env: ENV,
  });
  const call: TestServe['call'] = async (path, init = {}) => {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    const token = init.token === undefined ? TOKENS.admin : init.token;
    if (token !== null) headers['authorization'] = `Bearer ${token}`;
    let body: string | Buffer | undefined;
    if (init.raw !== undefined) body = init.raw;
    else if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${s.url}${path}`, {
      method: init.method ?? (body !== undefined ? 'POST' : 'GET'),
      headers,
      body: typeof body === 'string' || body === undefined ? body : new Uint8Array(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, json, text, headers: res.headers };
  };
  return { ...s, logs, policyFile, call };
}

/**
 * An Alertmanager webhook with one alert. As Alertmanager does, every notification of one firing
 * episode carries its startsAt, the resolved one too, and a firing after a resolved starts a new
 * episode (a later startsAt); `startsAt` overrides it (a late or regrouped copy of an old episode).
 */
export function alertmanager(labels: Record<string, string>, status: 'firing' | 'resolved' = 'firing', fingerprint?: string, startsAt?: string): unknown {
  const at = startsAt ?? episodeStart(fingerprint ?? JSON.stringify(labels), status);
  return {
    version: '4',
    status,
    receiver: 'remedy',
    groupKey: '{}:{}',
    alerts: [{ status, labels, annotations: { summary: 'test' }, startsAt: at, ...(fingerprint ? { fingerprint } : {}) }],
  };
}

const episodes = new Map<string, { startsAt: string; firing: boolean }>();
let episodeClock = Date.parse('2026-11-29T10:00:00Z');

function episodeStart(key: string, status: 'firing' | 'resolved'): string {
  const e = episodes.get(key);
  if (status === 'resolved') {
    if (e) e.firing = false;
    return e?.startsAt ?? new Date(episodeClock).toISOString();
  }
  if (e?.firing) return e.startsAt;
  episodeClock += 60_000;
  const startsAt = new Date(episodeClock).toISOString();
  episodes.set(key, { startsAt, firing: true });
  return startsAt;
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An HTTP receiver on loopback collecting the JSON bodies posted to it. */
export async function receiver(): Promise<{ url: string; bodies: any[]; close(): Promise<void> }> {
  const bodies: any[] = [];
  const server: Server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      try {
        bodies.push(JSON.parse(data));
      } catch {
        bodies.push({ unparsable: data });
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/hook`, bodies, close: () => new Promise((r) => server.close(() => r())) };
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
