// Actions that touch files, against real shell commands: the local transport runs each "host"
// in its own directory with its own TMPDIR (so host locks are real mkdir locks that do not
// collide). Properties edits, backups, owner/mode, fetch into artifacts/, locks.
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { acquireLock, releaseLock } from '../../src/engine/lock.js';
import type { Host } from '../../src/inventory/types.js';
import { LocalTransport } from '../../src/transport/local.js';
import type { ExecOptions, Transport } from '../../src/transport/types.js';
import { planOf, runPlan, tempDir, lastEnds, type FakeFleet } from './helpers.js';

/** Local "hosts": commands run with TMPDIR=<root>/<host>/tmp. */
class LocalFleet {
  readonly root: string;
  readonly commands: { host: string; command: string }[] = [];
  constructor(root: string) {
    this.root = root;
  }
  dir(host: string): string {
    const d = join(this.root, host);
    mkdirSync(join(d, 'tmp'), { recursive: true });
    return d;
  }
  get(host: Host): Transport {
    const local = new LocalTransport(host.name);
    const prefix = `TMPDIR='${this.dir(host.name)}/tmp'; export TMPDIR; `;
    return {
      host: host.name,
      connect: () => local.connect(),
      exec: (command: string, options?: ExecOptions) => {
        this.commands.push({ host: host.name, command });
        return local.exec(prefix + command, options);
      },
      fetch: (src, dest, options) => local.fetch(src, dest, options),
      close: () => local.close(),
    };
  }
}

const inventory = `
all:
  hosts:
    h1: { ansible_connection: local }
    h2: { ansible_connection: local }
`;

const editRunbook = (extra = '') => `
name: t
summary: edit a properties file
params:
  root: { type: string }
  password: { type: string, secret: true, default: "s3cret-Pw" }
steps:
  - id: edit
    name: set the read timeout
    hosts: all
    properties:
      file: "{{ root }}/{{ host.name }}/router.properties"
      set:
        conf_load_balancing_load.balancing.driver.proxy.read.timeout: 120s
        conf/http.properties+HTTPClient.proxy.password: "{{ password }}"
      unset: [conf_obsolete]
${extra}
`;

describe('properties edits', () => {
  test('changed files are backed up (owner and mode kept), replaced atomically with the requested mode; the diff is recorded', async () => {
    const root = tempDir();
    const fleet = new LocalFleet(root);
    for (const h of ['h1', 'h2']) {
      writeFileSync(
        join(fleet.dir(h), 'router.properties'),
        '# Router overrides\nconf_load_balancing_load.balancing.driver.proxy.read.timeout=57s\nconf_obsolete=1\nkeep=me\n',
      );
      chmodSync(join(fleet.dir(h), 'router.properties'), 0o640);
    }
    const { plan, inventory: inv } = planOf(editRunbook('      mode: "0600"'), { inventory, extraVars: [`root=${root}`] });
    const runDir = tempDir();
    const ran = await runPlan(plan, inv, fleet as unknown as FakeFleet, { runDir, runId: 'r42' });
    expect(ran.result).toMatchObject({ outcome: 'resolved', exitCode: 0 });
    const file = join(root, 'h1/router.properties');
    expect(readFileSync(file, 'utf8')).toBe(
      '# Router overrides\nconf_load_balancing_load.balancing.driver.proxy.read.timeout=120s\nkeep=me\nconf/http.properties+HTTPClient.proxy.password=s3cret-Pw\n',
    );
    const backup = join(root, 'h1/router.properties.remedy-r42.bak');
    expect(readFileSync(backup, 'utf8')).toContain('timeout=57s');
    expect(statSync(backup).mode & 0o777).toBe(0o640);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // no temp file left behind
    expect(readdirSync(join(root, 'h1')).sort()).toEqual(['router.properties', 'router.properties.remedy-r42.bak', 'tmp']);
    const end = lastEnds(ran, 'edit').get('h1');
    expect(end).toMatchObject({ status: 'changed', final: true });
    expect(end?.diff).toMatch(/-conf_load_balancing_load.balancing.driver.proxy.read.timeout=57s/);
    expect(end?.diff).toContain('+conf/http.properties+HTTPClient.proxy.password=********');
    expect(JSON.stringify(ran.events)).not.toContain('s3cret-Pw');
    // the password never travelled on a command line
    expect(fleet.commands.some((c) => c.command.includes('s3cret-Pw'))).toBe(false);
  });

  test('an edit that changes nothing writes nothing and needs no approval', async () => {
    const root = tempDir();
    const fleet = new LocalFleet(root);
    const content = 'conf_load_balancing_load.balancing.driver.proxy.read.timeout=120s\nconf/http.properties+HTTPClient.proxy.password=s3cret-Pw\n';
    for (const h of ['h1', 'h2']) writeFileSync(join(fleet.dir(h), 'router.properties'), content);
    const { plan, inventory: inv } = planOf(editRunbook(), { inventory, extraVars: [`root=${root}`] });
    const ran = await runPlan(plan, inv, fleet as unknown as FakeFleet, { yes: false });
    expect(ran.result).toMatchObject({ outcome: 'nothing-to-do', exitCode: 0 });
    expect(ran.of('approval')).toEqual([]);
    expect(lastEnds(ran, 'edit').get('h2')).toMatchObject({ status: 'ok', reason: 'already as wanted: nothing to change' });
    expect(existsSync(join(root, 'h1/router.properties.remedy-run-1.bak'))).toBe(false);
    expect(fleet.commands.every((c) => c.command.includes('cat --'))).toBe(true);
  });

  test('a missing file fails the host, with the reason', async () => {
    const root = tempDir();
    const fleet = new LocalFleet(root);
    writeFileSync(join(fleet.dir('h1'), 'router.properties'), 'a=1\n');
    fleet.dir('h2');
    const { plan, inventory: inv } = planOf(editRunbook(), { inventory, extraVars: [`root=${root}`] });
    const ran = await runPlan(plan, inv, fleet as unknown as FakeFleet);
    expect(lastEnds(ran, 'edit').get('h2')).toMatchObject({ status: 'failed' });
    expect(lastEnds(ran, 'edit').get('h2')?.error).toMatch(/cannot read .*h2\/router.properties/);
    expect(ran.result).toMatchObject({ outcome: 'failed', hosts: { h1: 'ok', h2: 'failed' } });
  });
});

describe('fetch', () => {
  test('copies into artifacts/<host>/, optional missing files are not failures', async () => {
    const root = tempDir();
    const fleet = new LocalFleet(root);
    writeFileSync(join(fleet.dir('h1'), 'app.log'), 'line 1\nline 2\n');
    fleet.dir('h2');
    const { plan, inventory: inv } = planOf(
      `
name: t
summary: fetch
params:
  root: { type: string }
steps:
  - id: logs
    name: fetch the log
    hosts: all
    fetch: { src: "{{ root }}/{{ host.name }}/app.log", dest: logs/app.log, optional: true }
`,
      { inventory, extraVars: [`root=${root}`] },
    );
    const runDir = tempDir();
    const ran = await runPlan(plan, inv, fleet as unknown as FakeFleet, { runDir });
    expect(readFileSync(join(runDir, 'artifacts/h1/logs/app.log'), 'utf8')).toBe('line 1\nline 2\n');
    expect(lastEnds(ran, 'logs').get('h1')?.artifacts).toEqual([
      { path: 'artifacts/h1/logs/app.log', bytes: 14, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ]);
    expect(lastEnds(ran, 'logs').get('h2')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/does not exist \(optional\)/) });
    expect(ran.result.exitCode).toBe(0);
  });
});

describe('host lock scripts on a real shell', () => {
  test('mkdir lock: acquired, refused to another run with its owner, taken over by the same run, broken, released only by its owner', async () => {
    const root = tempDir();
    const fleet = new LocalFleet(root);
    const t = fleet.get({ name: 'h1' } as Host);
    const a = { runId: 'run-a', controller: 'ctl-a', pid: 11, time: '2026-11-24T10:00:00.000Z' };
    const b = { runId: 'run-b', controller: 'ctl-b', pid: 22, time: '2026-11-24T11:00:00.000Z' };
    expect(await acquireLock(t, a, ['run-a'], false)).toEqual({ action: 'acquired' });
    expect(JSON.parse(readFileSync(join(root, 'h1/tmp/remedy.lock/owner'), 'utf8'))).toEqual(a);
    const refused = await acquireLock(t, b, ['run-b'], false);
    expect(refused).toMatchObject({ action: 'refused', previous: a });
    expect(refused.action === 'refused' && refused.detail).toMatch(/run run-a \(controller ctl-a, pid 11\) since 2026-11-24T10:00:00.000Z/);
    expect(await acquireLock(t, { ...a, pid: 12 }, ['run-a'], false)).toMatchObject({ action: 'acquired', detail: expect.stringMatching(/taken over/) });
    await releaseLock(t, ['run-b']);
    expect(existsSync(join(root, 'h1/tmp/remedy.lock'))).toBe(true);
    expect(await acquireLock(t, b, ['run-b'], true)).toMatchObject({ action: 'broken', previous: { runId: 'run-a' } });
    await releaseLock(t, ['run-b']);
    expect(existsSync(join(root, 'h1/tmp/remedy.lock'))).toBe(false);
  });

  test('two inventory names for one machine share its lock: one run takes both, another run neither', async () => {
    const root = tempDir();
    const fleet = new LocalFleet(root);
    const t1 = fleet.get({ name: 'h1' } as Host);
    // h1-alias runs with h1's TMPDIR: the same lock directory.
    const t2 = { ...t1, host: 'h1-alias' };
    const own = (pid: number) => ({ runId: 'run-a', controller: 'c', pid, time: 't' });
    const both = await Promise.all([acquireLock(t1, own(1), ['run-a'], false), acquireLock(t2, own(1), ['run-a'], false)]);
    expect(both.map((r) => r.action).sort()).toEqual(['acquired', 'acquired']);
    expect((await acquireLock(t2, { runId: 'run-b', controller: 'c', pid: 2, time: 't' }, ['run-b'], false)).action).toBe('refused');
  });

  test('a resumed run taking over one machine under several names in parallel never reads a half-written owner file', async () => {
    const root = tempDir();
    const fleet = new LocalFleet(root);
    const t1 = fleet.get({ name: 'h1' } as Host);
    const names = ['h1', 'h1-a', 'h1-b', 'h1-c'].map((host) => ({ ...t1, host }));
    expect((await acquireLock(t1, { runId: 'run-a', controller: 'c', pid: 1, time: 't' }, ['run-a'], false)).action).toBe('acquired');
    // Each take-over rewrites the owner file while the others read it (the CI failure: "locked by an unknown run").
    for (let round = 0; round < 15; round++) {
      const owner = { runId: `run-a${round}`, controller: 'c', pid: round, time: 't' };
      const ours = ['run-a', ...Array.from({ length: round + 1 }, (_, i) => `run-a${i}`)];
      const got = await Promise.all(names.map((t) => acquireLock(t, owner, ours, false)));
      expect(got.map((r) => r.action)).toEqual(['acquired', 'acquired', 'acquired', 'acquired']);
    }
  });

  test('two runs racing for the same host: exactly one gets the lock', async () => {
    const root = tempDir();
    const fleet = new LocalFleet(root);
    const t = fleet.get({ name: 'h1' } as Host);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => acquireLock(t, { runId: `run-${i}`, controller: 'c', pid: i, time: 't' }, [`run-${i}`], false)),
    );
    expect(results.filter((r) => r.action === 'acquired')).toHaveLength(1);
    expect(results.filter((r) => r.action === 'refused')).toHaveLength(7);
  });
});
