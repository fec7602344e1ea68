// remedy serve and remedy worker through the built CLI against the lab: an Alertmanager alert
// for mps-down ends in a resolved run with every Router answering 200; two workers on two
// queues each touch only their own region; a worker SIGKILLed during the MP restart is taken over
// by another worker and no MP is started twice.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { labBreak, labDown, labHeal, labUp, type LabInfo } from '../../src/lab/index.js';
import { alertmanager, AUTH_YAML, ENV, TOKENS, until } from './helpers.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const FAST = `{ dump_interval: "1s", monitor_checks: "2", monitor_interval: "1s", up_timeout: "3s" }`;

let lab: LabInfo;
let work: string;
const children: ChildProcess[] = [];

/** Starts the built CLI; resolves once its stderr has printed `ready` (matched), with everything it printed. */
function start(args: string[], ready: RegExp): Promise<{ child: ChildProcess; match: RegExpMatchArray; stderr: () => string }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...ENV, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let err = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`not ready within 60 s: remedy ${args.join(' ')}\n${err}`)), 60_000);
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = ready.exec(err);
      if (m) {
        clearTimeout(t);
        resolve({ child, match: m, stderr: () => err });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`remedy ${args[0]} exited ${code}:\n${err}`));
    });
  });
}

async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function api(url: string, path: string, init: { body?: unknown; token?: string } = {}): Promise<any> {
  const res = await fetch(`${url}${path}`, {
    method: init.body !== undefined ? 'POST' : 'GET',
    headers: { authorization: `Bearer ${init.token ?? TOKENS.viewer}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
  });
  return res.json();
}

const ended = (url: string, id: string, timeoutMs = 60_000) =>
  until(
    `run ${id} to end`,
    async () => {
      const r = await api(url, `/api/runs/${id}`);
      return !['queued', 'running'].includes(r.outcome) ? r : null;
    },
    timeoutMs,
  );

function routerStatuses(): number[] {
  return lab.routers.map(
    (r) => Number(spawnSync('curl', ['-s', '-o', '/dev/null', '-m', '15', '-w', '%{http_code}', r.url], { encoding: 'utf8' }).stdout) || 0,
  );
}

/** How many times each MP's JVM has started (its system.log), by host name. */
function mpStarts(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const mp of lab.hosts.filter((h) => h.role === 'message-processor')) {
    const log = join(mp.apigeeRoot, 'var/log/edge-message-processor/logs/system.log');
    out[mp.name] = existsSync(log) ? (readFileSync(log, 'utf8').match(/Starting message-processor/g) ?? []).length : 0;
  }
  return out;
}

function policy(name: string, routes: string): string {
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, `${AUTH_YAML}routes:\n${routes}`);
  return file;
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`);
  work = mkdtempSync(join(tmpdir(), 'remedy-serve-e2e-'));
  chmodSync(work, 0o755);
  lab = await labUp({ dir: join(work, 'lab') });
});

afterEach(async () => {
  // SIGTERM first: a serve stops its embedded redis-server (a SIGKILLed one would leave it behind).
  for (const c of children.splice(0).reverse()) {
    const killer = setTimeout(() => c.kill('SIGKILL'), 15_000);
    await stop(c, 'SIGTERM');
    clearTimeout(killer);
  }
});

afterAll(async () => {
  if (lab) await labDown(lab.dir);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('remedy serve on the lab', () => {
  it('an Alertmanager alert for mps-down leads to a resolved run and Routers answering 200, within 60 s', async () => {
    const file = policy(
      'auto',
      `  - match: { alertname: Apigee502 }\n    runbook: apigee-502-bad-gateway\n    inventory: ${lab.inventory}\n    mode: auto\n    params: ${FAST}\n    budget: { max: 2, per: 1h }\n`,
    );
    const data = join(work, 'data-auto');
    const s = await start(
      ['serve', '--policy', file, '--listen', '127.0.0.1:0', '--data', data],
      /listening on (http:\/\/\S+) \(embedded redis-server pid (\d+)/,
    );
    const url = s.match[1] as string;
    const redisPid = Number(s.match[2]);
    await labHeal(lab.dir);
    await labBreak(lab.dir, 'mps-down');
    expect(routerStatuses().some((c) => c !== 200)).toBe(true);
    const started = Date.now();
    const posted = await api(url, '/hooks/alertmanager', {
      token: TOKENS.hook,
      body: alertmanager({ alertname: 'Apigee502', severity: 'page' }, 'firing', 'lab-502'),
    });
    expect(posted.results[0].action).toBe('enqueued');
    const run = await ended(url, posted.results[0].run);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(run).toMatchObject({ outcome: 'resolved', cause: 'mps-down', exitCode: 0 });
    expect(routerStatuses()).toEqual(lab.routers.map(() => 200));
    const list = await api(url, '/api/runs');
    expect(list.runs[0]).toMatchObject({
      id: run.id,
      runbook: 'apigee-502-bad-gateway',
      outcome: 'resolved',
      exitCode: 0,
      cause: 'mps-down',
      alert: { fingerprint: 'lab-502' },
    });
    // The run directory is the CLI's: result.json and the journal, and `remedy report` reads it.
    expect(JSON.parse(readFileSync(join(data, 'runs', run.id, 'result.json'), 'utf8'))).toMatchObject({ outcome: 'resolved' });
    // serve stopped by SIGTERM stops its redis-server.
    expect(alive(redisPid)).toBe(true);
    await stop(s.child);
    expect(s.child.exitCode).toBe(0);
    await until('redis-server to exit', async () => !alive(redisPid), 10_000);
  });

  it('two workers on two queues (dc-1, dc-2) each touch only their own region', async () => {
    const route = (region: string, group: string) =>
      `  - match: { alertname: Apigee502, region: ${region} }\n    runbook: apigee-502-bad-gateway\n    inventory: ${lab.inventory}\n    mode: auto\n    params: ${FAST}\n    limit: "${group}"\n    queue: ${region}\n`;
    const file = policy('regions', route('dc-1', 'dc_1') + route('dc-2', 'dc_2'));
    const data = join(work, 'data-regions');
    const s = await start(
      ['serve', '--policy', file, '--listen', '127.0.0.1:0', '--data', data, '--work', ''],
      /listening on (http:\/\/\S+) \(embedded redis-server pid \d+ on (\S+)\)/,
    );
    const url = s.match[1] as string;
    const redis = `unix://${s.match[2]}`;
    for (const q of ['dc-1', 'dc-2'])
      await start(['worker', '--redis', redis, '--queue', q, '--name', `w-${q}`, '--data', join(work, `data-${q}`)], /taking runs from queue/);
    await labHeal(lab.dir);
    await labBreak(lab.dir, 'mps-down');
    const ids: Record<string, string> = {};
    for (const region of ['dc-1', 'dc-2']) {
      const posted = await api(url, '/hooks/alertmanager', {
        token: TOKENS.hook,
        body: alertmanager({ alertname: 'Apigee502', region }, 'firing', `lab-${region}`),
      });
      ids[region] = posted.results[0].run;
    }
    for (const region of ['dc-1', 'dc-2']) {
      const run = await ended(url, ids[region] as string, 90_000);
      expect(run).toMatchObject({ outcome: 'resolved', worker: `w-${region}`, decision: { queue: region } });
      const regionHosts = lab.hosts.filter((h) => h.region === region.replace('-', '_') || h.region === region).map((h) => h.name);
      expect(Object.keys(run.hosts).length).toBeGreaterThan(0);
      expect(
        Object.keys(run.hosts).every((h) => regionHosts.includes(h)),
        `${Object.keys(run.hosts)} ⊄ ${regionHosts}`,
      ).toBe(true);
      // Its run directory is on its own worker's disk.
      expect(existsSync(join(work, `data-${region}`, 'runs', run.id, 'journal.jsonl'))).toBe(true);
    }
    expect(routerStatuses()).toEqual(lab.routers.map(() => 200));
  });

  it('a worker SIGKILLed during the MP restart is taken over by another worker: resolved, and no MP started twice', { timeout: 240_000 }, async () => {
    const file = policy(
      'takeover',
      `  - match: { alertname: Apigee502 }\n    runbook: apigee-502-bad-gateway\n    inventory: ${lab.inventory}\n    mode: auto\n    params: ${FAST}\n    queue: dc-1\n`,
    );
    const data = join(work, 'data-takeover');
    const s = await start(
      ['serve', '--policy', file, '--listen', '127.0.0.1:0', '--data', data, '--work', ''],
      /listening on (http:\/\/\S+) \(embedded redis-server pid \d+ on (\S+)\)/,
    );
    const url = s.match[1] as string;
    const redis = `unix://${s.match[2]}`;
    const a = await start(
      ['worker', '--redis', redis, '--queue', 'dc-1', '--name', 'wa', '--data', join(work, 'wa'), '--lock-duration', '5000'],
      /taking runs from queue/,
    );
    await labHeal(lab.dir);
    await labBreak(lab.dir, 'mps-down');
    const before = mpStarts();
    const posted = await api(url, '/hooks/alertmanager', { token: TOKENS.hook, body: alertmanager({ alertname: 'Apigee502' }, 'firing', 'lab-takeover') });
    const id = posted.results[0].run as string;
    // Wait for the restart to begin on some MP, then kill the worker holding the run.
    const journalA = join(work, 'wa', 'runs', id, 'journal.jsonl');
    await until(
      'the MP restart to start',
      async () => existsSync(journalA) && /"type":"host-start","step":"restart_[^"]*","host":"mp-/.test(readFileSync(journalA, 'utf8')),
      60_000,
    );
    await stop(a.child, 'SIGKILL');
    // Another worker on the same queue takes it over through BullMQ's stalled-job check.
    await start(
      ['worker', '--redis', redis, '--queue', 'dc-1', '--name', 'wb', '--data', join(work, 'wb'), '--lock-duration', '5000'],
      /taking runs from queue/,
    );
    const run = await ended(url, id, 120_000);
    expect(run).toMatchObject({ outcome: 'resolved', worker: 'wb', cause: 'mps-down' });
    expect(routerStatuses()).toEqual(lab.routers.map(() => 200));
    const after = mpStarts();
    for (const [mp, n] of Object.entries(after)) expect(n - (before[mp] ?? 0), `${mp} started ${n - (before[mp] ?? 0)} times`).toBe(1);
    // wb rebuilt the run directory from the stream: its journal has both segments.
    const journal = readFileSync(join(work, 'wb', 'runs', id, 'journal.jsonl'), 'utf8');
    expect(journal.match(/"type":"run-start"/g)).toHaveLength(2);
  });
});
