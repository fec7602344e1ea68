// Fencing with two real worker processes and a real redis-server (serve's embedded one): worker
// wa is frozen (SIGSTOP) in the middle of a run's first mutation, its job lock lapses, worker wb
// takes the run over (new lease and run tokens) and finishes it. Then wa wakes up (SIGCONT) and
// carries on where it was: its next mutation finds its lease taken and is never sent, and it
// records no outcome over wb's. Hosts are reached with the local transport.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertmanager, AUTH_YAML, cleanup, ENV, TOKENS, until, workspace, type Workspace } from './helpers.js';

const CLI = join(import.meta.dirname, '../../dist/cli/main.js');
const RUNBOOK = `name: svc-two-fixes
summary: two mutations, the first one slow
params:
  root: { type: string, pattern: '^/[A-Za-z0-9/._-]+$' }
steps:
  - id: first
    name: first fix (slow)
    hosts: all
    mutates: true
    run: sleep 3; echo first >> {{ root }}/log
    verify:
      run: grep -qx first {{ root }}/log
  - id: second
    name: second fix
    hosts: all
    mutates: true
    run: echo second >> {{ root }}/log
`;

let ws: Workspace;
const children: ChildProcess[] = [];

function start(args: string[], ready: RegExp): Promise<{ child: ChildProcess; match: RegExpMatchArray; stderr: () => string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...ENV, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
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

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`);
  ws = workspace();
  writeFileSync(join(ws.dir, 'two-fixes.yaml'), RUNBOOK);
});

afterAll(async () => {
  for (const c of children.reverse()) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    c.kill('SIGCONT');
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    const killer = setTimeout(() => c.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(killer);
  }
  if (ws) cleanup(ws.dir);
});

describe('a worker that lost its lease cannot mutate', () => {
  it("frozen mid-run and taken over: after SIGCONT its next mutation is never sent, and the run stays the new worker's", { timeout: 180_000 }, async () => {
    const root = ws.target('fence', 'STUCK');
    const policy = join(ws.dir, 'fence-policy.yaml');
    writeFileSync(
      policy,
      `${AUTH_YAML}routes:\n  - { match: { alertname: Fence }, runbook: ${join(ws.dir, 'two-fixes.yaml')}, inventory: ${ws.inventory}, params: { root: "{{ labels.root }}" }, mode: auto, queue: dc-1 }\n`,
    );
    const s = await start(
      ['serve', '--policy', policy, '--listen', '127.0.0.1:0', '--data', join(ws.dir, 'serve-data'), '--work', ''],
      /listening on (http:\/\/\S+) \(embedded redis-server pid \d+ on (\S+)\)/,
    );
    const url = s.match[1] as string;
    const redis = `unix://${s.match[2]}`;
    const api = async (path: string, body?: unknown) =>
      (
        await fetch(`${url}${path}`, {
          method: body ? 'POST' : 'GET',
          headers: { authorization: `Bearer ${body ? TOKENS.hook : TOKENS.viewer}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        })
      ).json();
    const wa = await start(
      ['worker', '--redis', redis, '--queue', 'dc-1', '--name', 'wa', '--data', join(ws.dir, 'wa'), '--lock-duration', '2000'],
      /taking runs from queue/,
    );

    const posted = await api('/hooks/alertmanager', alertmanager({ alertname: 'Fence', root }, 'firing', 'fp-fence'));
    const id = posted.results[0].run as string;
    const journalA = join(ws.dir, 'wa', 'runs', id, 'journal.jsonl');
    await until(
      'wa to start the first fix',
      async () => existsSync(journalA) && /"type":"host-start","step":"first"/.test(readFileSync(journalA, 'utf8')),
      60_000,
    );
    wa.child.kill('SIGSTOP');

    const wb = await start(
      ['worker', '--redis', redis, '--queue', 'dc-1', '--name', 'wb', '--data', join(ws.dir, 'wb'), '--lock-duration', '2000'],
      /taking runs from queue/,
    );
    const run = await until(
      `run ${id} to end`,
      async () => {
        const r = await api(`/api/runs/${id}`);
        return !['queued', 'running'].includes(r.outcome) ? r : null;
      },
      90_000,
    );
    expect(run).toMatchObject({ worker: 'wb', outcome: 'resolved' });
    expect(wb.stderr()).toMatch(new RegExp(`run ${id}: taken over by wb`));

    // wa wakes up: its first command had finished meanwhile; its next mutation must not be sent.
    wa.child.kill('SIGCONT');
    // (wb gave the lease back when its run ended, so wa finds it gone or held by wb.)
    await until(
      'wa to find its lease lost',
      async () =>
        /lease on local1 lost \(this worker's fencing token \d+; (held by wb|the lease expired and nobody holds it)/.test(wa.stderr()) &&
        /another worker holds this run now; wa stopped without recording an outcome/.test(wa.stderr()),
      45_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nwa said:\n${wa.stderr()}`);
    });
    const log = readFileSync(join(root, 'log'), 'utf8').trim().split('\n');
    expect(log.filter((l) => l === 'second')).toEqual(['second']);
    const journalALines = readFileSync(journalA, 'utf8');
    expect(journalALines).not.toMatch(/"type":"host-start","step":"second","host":"local1","attempt":1,"command"/);
    // The record is still wb's.
    expect(await api(`/api/runs/${id}`)).toMatchObject({ worker: 'wb', outcome: 'resolved' });
  });
});
