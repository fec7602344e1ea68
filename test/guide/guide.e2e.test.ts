// `remedy guide` end to end, in a real terminal: the built CLI under tmux against a real OpenSSH
// sshd on loopback, two host aliases (h1, h2) of it with their own marker_dir. The operator (this
// test, through send-keys) reads the diagnosis, approves a fix on h1 only, has a failed step
// retried once the condition it needs is met, and aborts at a later approval. The journal's
// recorded decisions and the files on the hosts must match exactly what was approved.
//
// Exit codes: an abort chosen at an approval ends the run `refused` (5: a mutation lacked
// approval, nothing more runs); Ctrl-C at a prompt ends it `interrupted` (130).
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunEvent } from '../../src/engine/events.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { TmuxSession, exitFileIn, requireTmux } from './tmux.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RUNBOOK = join(REPO, 'test/fixtures/guide/guide-fix.yaml');

let main: string;
let home: string;
const sessions: TmuxSession[] = [];
const servers: Sshd[] = [];
/** Temporary directories removed in afterAll (the built CLI, workspaces, HOME). */
const scratch: string[] = [];

/** The CLI built from src/ into a private directory (a concurrent build of dist/ cannot swap it). */
function buildCli(): string {
  const root = mkdtempSync(join(tmpdir(), 'remedy-guide-cli-'));
  symlinkSync(join(REPO, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
  const r = spawnSync(
    process.execPath,
    [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(root, 'dist')],
    { cwd: REPO, encoding: 'utf8' },
  );
  scratch.push(root);
  const built = join(root, 'dist/cli/main.js');
  if (!existsSync(built)) throw new Error(`building the CLI failed:\n${r.stdout}\n${r.stderr}`);
  return built;
}

beforeAll(async () => {
  requireTmux();
  main = buildCli();
  home = mkdtempSync(join(tmpdir(), 'remedy-guide-home-'));
  scratch.push(home);
}, 120_000);

afterAll(async () => {
  for (const s of sessions) s.kill();
  for (const s of servers) await s.stop();
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

/**
 * One sshd per test: h1 and h2 are aliases of one machine, so they share its host locks, and a
 * test must not find the locks of another test's run. Sessions get an empty HOME (no rc files)
 * and a TMPDIR of their own (where the locks go).
 */
async function hostServer(): Promise<Sshd> {
  const base = mkdtempSync(join(tmpdir(), 'remedy-guide-host-'));
  scratch.push(base);
  mkdirSync(join(base, 'home'));
  mkdirSync(join(base, 'tmp'));
  const sshd = await startSshd({ extraConfig: ['Match all', `SetEnv HOME=${join(base, 'home')} TMPDIR=${join(base, 'tmp')}`] });
  servers.push(sshd);
  return sshd;
}

interface Workspace {
  dir: string;
  inventory: string;
  knownHosts: string;
  marker: (host: string, file: string) => string;
}

/** h1 and h2, both with the broken flag and an app.log with errors, each in its own marker_dir. */
async function workspace(): Promise<Workspace> {
  const sshd = await hostServer();
  const dir = mkdtempSync(join(tmpdir(), 'remedy-guide-ws-'));
  scratch.push(dir);
  const markerDir = (h: string) => join(dir, 'hosts', h);
  const lines: string[] = [];
  for (const h of ['h1', 'h2']) {
    mkdirSync(markerDir(h), { recursive: true });
    writeFileSync(join(markerDir(h), 'broken'), '');
    writeFileSync(join(markerDir(h), 'app.log'), `INFO start\nERROR disk quota exceeded on ${h}\nERROR retry failed\n`);
    lines.push(
      `    ${h}: { ansible_host: 127.0.0.1, ansible_port: ${sshd.port}, ansible_user: ${sshd.user}, ansible_ssh_private_key_file: ${sshd.keyFile}, marker_dir: ${JSON.stringify(markerDir(h))} }`,
    );
  }
  const inventory = join(dir, 'inventory.yaml');
  writeFileSync(inventory, `all:\n  hosts:\n${lines.join('\n')}\n`);
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `${sshd.knownHostsLine}\n`);
  copyFileSync(RUNBOOK, join(dir, 'guide-fix.yaml'));
  return { dir, inventory, knownHosts, marker: (h, f) => join(markerDir(h), f) };
}

function terminal(ws: Workspace, args: string[], name: string): TmuxSession {
  const s = new TmuxSession({
    socket: `remedy-guide-${process.pid}-${sessions.length}`,
    argv: [process.execPath, main, ...args],
    cwd: ws.dir,
    env: { HOME: home, TERM: 'xterm-256color', LANG: 'C.UTF-8' },
    exitFile: exitFileIn(ws.dir, name),
  });
  sessions.push(s);
  return s;
}

function journal(runDir: string): RunEvent[] {
  return readFileSync(join(runDir, 'journal.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as RunEvent);
}

const of = <T extends RunEvent['type']>(events: RunEvent[], type: T) => events.filter((e) => e.type === type) as Extract<RunEvent, { type: T }>[];

describe('remedy guide in a terminal', () => {
  test('diagnosis shown; fix approved on h1, skipped on h2; a failure retried; abort at a later approval', async () => {
    const ws = await workspace();
    const t = terminal(
      ws,
      ['guide', 'guide-fix.yaml', '-i', 'inventory.yaml', '--known-hosts', 'known_hosts', '--run-dir', 'run', '--operator', 'alice'],
      'guide',
    );

    // The diagnosis runs on its own; the evidence and the concluded cause come before any question.
    const diagnosis = await t.waitForPrompt('Accept the cause broken-flag?');
    expect(diagnosis).toContain('Concluded cause: broken-flag — A host carries the broken flag.');
    expect(diagnosis).toContain("because this held: hosts('all').exists(h, h.facts.broken)");
    // Hosts with identical facts share one line.
    expect(diagnosis).toMatch(/Evidence \(the facts the decision read\):\n\s+h1, h2\s+broken=true/);
    // Log lines of one step name it once, in their heading.
    expect(diagnosis).toMatch(/Log lines from the diagnosis \[look\]:\n\s+h1\s+app\.log: ERROR disk quota exceeded on h1/);
    // The other facts are behind 'd'; the screen says how many there are.
    expect(diagnosis).toContain('2 other facts on 2 hosts (d shows them)');
    expect(diagnosis).toContain('Diagnosis: 1 read-only step · 2 ok');
    t.keys(['Enter']);

    // Before the fix: confirm text, hosts, the exact commands per host.
    const approval = await t.waitForPrompt('Run step fix on h1, h2?');
    expect(approval).toContain('Writes the fix marker on each host with the broken flag.');
    expect(approval).toContain(`touch ${ws.marker('h1', 'fixed')}`);
    expect(approval).toContain(`verify: test -f ${ws.marker('h1', 'fixed')}`);
    // h2's command differs only in its host name: folded, with the host list.
    expect(approval).toContain('[h2 alike');
    t.keys(['p', 'Enter']);
    await t.waitForPrompt('Run step fix on which hosts?');
    t.keys(['Space']); // h1, under the cursor
    await t.waitFor('h1 to be checked', (s) => /◉ h1/.test(s));
    t.keys(['Enter']);

    // reload needs a ready file: it fails on both hosts, the operator looks at the output, the
    // ready files appear, the operator retries.
    await t.waitForPrompt('Run step reload on h1, h2?');
    t.keys(['y', 'Enter']);
    const failed = await t.waitForPrompt('Step reload failed on h1, h2. What now?');
    expect(failed).toMatch(/h1: failed, exit 3/);
    expect(failed).toContain(`not ready: ${ws.marker('h2', 'ready')} is missing`);
    expect(existsSync(ws.marker('h1', 'reloaded'))).toBe(false);
    t.keys(['o', 'Enter']);
    await t.waitFor(
      'the full output',
      (s) => /━━ Output: Reload \(needs the ready file\) \[reload\]/.test(s) && /✔ Step reload failed on h1, h2\. What now\? show the full output/.test(s),
    );
    await t.waitForPrompt('Step reload failed on h1, h2. What now?');
    for (const h of ['h1', 'h2']) writeFileSync(ws.marker(h, 'ready'), '');
    t.keys(['r', 'Enter']);

    // Then the operator stops before the clean-up.
    await t.waitForPrompt('Run step cleanup on h1, h2?');
    t.keys(['a', 'Enter']);
    const code = await t.exitCode();
    const screen = t.screen();
    expect(code, screen).toBe(5);
    expect(screen).toMatch(/RECAP guide-fix · refused \(exit 5\)/);

    // On the hosts: exactly what was approved.
    expect(existsSync(ws.marker('h1', 'fixed'))).toBe(true);
    expect(existsSync(ws.marker('h2', 'fixed'))).toBe(false);
    expect(existsSync(ws.marker('h1', 'reloaded'))).toBe(true);
    expect(existsSync(ws.marker('h2', 'reloaded'))).toBe(true);
    expect(existsSync(ws.marker('h1', 'broken'))).toBe(true);
    expect(existsSync(ws.marker('h2', 'broken'))).toBe(true);

    // In the journal: every answer, with the operator, the source and the plan hash.
    const runDir = join(ws.dir, 'run');
    const events = journal(runDir);
    const start = of(events, 'run-start')[0];
    expect(start).toMatchObject({ mode: 'guided', operator: 'alice' });
    const decisions = of(events, 'decision');
    expect(decisions.map((d) => [d.step, d.cause, d.override, d.confirmedBy])).toEqual([['diagnose', 'broken-flag', undefined, 'alice']]);
    const approvals = of(events, 'approval').map((a) => ({
      step: a.step,
      decision: a.decision,
      source: a.source,
      operator: a.operator,
      hosts: a.hosts,
      planHash: a.planHash,
    }));
    expect(approvals).toEqual([
      { step: 'fix', decision: 'approved', source: 'operator', operator: 'alice', hosts: ['h1'], planHash: start?.planHash },
      { step: 'reload', decision: 'approved', source: 'operator', operator: 'alice', hosts: ['h1', 'h2'], planHash: start?.planHash },
      { step: 'cleanup', decision: 'aborted', source: 'operator', operator: 'alice', hosts: ['h1', 'h2'], planHash: start?.planHash },
    ]);
    expect(of(events, 'host-end').find((e) => e.step === 'fix' && e.host === 'h2')).toMatchObject({ status: 'skipped', reason: 'skipped at approval' });
    const reloads = of(events, 'host-end')
      .filter((e) => e.step === 'reload')
      .map((e) => [e.host, e.status]);
    expect(reloads.filter(([h]) => h === 'h1')).toEqual([
      ['h1', 'failed'],
      ['h1', 'changed'],
    ]);
    expect(of(events, 'host-start').filter((e) => e.step === 'cleanup')).toEqual([]);
    expect(events.at(-1)).toMatchObject({ type: 'run-end', outcome: 'refused', exitCode: 5 });
    expect((events.at(-1) as Extract<RunEvent, { type: 'run-end' }>).message).toMatch(/alice aborted/);
    expect(JSON.parse(readFileSync(join(runDir, 'result.json'), 'utf8'))).toMatchObject({ outcome: 'refused', exitCode: 5, cause: 'broken-flag' });
  });

  test('Ctrl-C at a prompt: journal written, exit 130, nothing changed; `remedy resume` asks again, guided', async () => {
    const ws = await workspace();
    const t = terminal(
      ws,
      ['guide', 'guide-fix.yaml', '-i', 'inventory.yaml', '--known-hosts', 'known_hosts', '--run-dir', 'run', '--operator', 'bob'],
      'guide',
    );
    await t.waitForPrompt('Accept the cause broken-flag?');
    t.keys(['Enter']);
    await t.waitForPrompt('Run step fix on h1, h2?');
    t.keys(['C-c']);
    expect(await t.exitCode()).toBe(130);
    const runDir = join(ws.dir, 'run');
    const events = journal(runDir);
    expect(events.at(-1)).toMatchObject({
      type: 'run-end',
      outcome: 'interrupted',
      exitCode: 130,
      message: 'bob interrupted the run at the approval of step fix',
    });
    expect(of(events, 'host-start').filter((e) => e.step === 'fix')).toEqual([]);
    expect(existsSync(ws.marker('h1', 'fixed'))).toBe(false);

    // Resumed: guided again (its run-start says so), asking before the fix; this operator aborts.
    const r = terminal(ws, ['resume', 'run', '--known-hosts', 'known_hosts', '--operator', 'carol'], 'resume');
    const again = await r.waitForPrompt('Run step fix on h1, h2?');
    expect(again).toContain(`touch ${ws.marker('h1', 'fixed')}`);
    r.keys(['a', 'Enter']);
    expect(await r.exitCode(), r.screen()).toBe(5);
    const resumed = journal(runDir);
    expect(of(resumed, 'run-start').map((s) => [s.mode, s.operator])).toEqual([
      ['guided', 'bob'],
      ['guided', 'carol'],
    ]);
    expect(of(resumed, 'approval').map((a) => [a.step, a.decision, a.operator, a.source])).toEqual([['fix', 'aborted', 'carol', 'operator']]);
    expect(existsSync(ws.marker('h1', 'fixed')) || existsSync(ws.marker('h2', 'fixed'))).toBe(false);
    expect(resumed.at(-1)).toMatchObject({ type: 'run-end', outcome: 'refused', exitCode: 5 });
  });

  test('--approval-timeout: an approval left unanswered is refused (timed-out), nothing runs, exit 5', async () => {
    const ws = await workspace();
    const t = terminal(
      ws,
      ['guide', 'guide-fix.yaml', '-i', 'inventory.yaml', '--known-hosts', 'known_hosts', '--run-dir', 'run', '--operator', 'dave', '--approval-timeout', '2s'],
      'guide',
    );
    await t.waitForPrompt('Accept the cause broken-flag? (answer within 2.0s)');
    t.keys(['Enter']);
    await t.waitForPrompt('Run step fix on h1, h2? (answer within 2.0s)');
    const asked = Date.now();
    expect(await t.exitCode()).toBe(5);
    expect(Date.now() - asked).toBeGreaterThanOrEqual(1000);
    expect(t.screen()).toContain('No answer in time: nothing more is changed');
    const events = journal(join(ws.dir, 'run'));
    expect(of(events, 'approval').map((a) => [a.step, a.decision, a.source, a.operator, a.hosts])).toEqual([
      ['fix', 'timed-out', 'policy', 'dave', ['h1', 'h2']],
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'run-end', outcome: 'refused', exitCode: 5 });
    expect(existsSync(ws.marker('h1', 'fixed')) || existsSync(ws.marker('h2', 'fixed'))).toBe(false);
  });

  test('without a terminal: exit 64, pointing to remedy run; nothing created', async () => {
    const ws = await workspace();
    const child = spawn(process.execPath, [main, 'guide', 'guide-fix.yaml', '-i', 'inventory.yaml', '--run-dir', 'run'], {
      cwd: ws.dir,
      env: { ...process.env, HOME: home, NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.end();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
    expect(code).toBe(64);
    expect(stderr).toBe(
      'remedy: remedy guide asks the operator at every decision and needs a terminal (stdin and stdout are not a TTY); for runs without a person use `remedy run` (add --yes to apply the fixes)\n',
    );
    expect(existsSync(join(ws.dir, 'run'))).toBe(false);
  });
});
