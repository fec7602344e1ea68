// A host that stops answering (issue 17, defect 5), through the built CLI against real sshd whose
// session processes are SIGSTOPped (TCP stays up, SSH goes silent): the keepalive bound from the
// inventory's ansible_ssh_common_args or from --server-alive-* declares it unreachable, and after a
// step timeout the process exits although the host never answers again (its connection is
// destroyed, not left half-closed).
import { mkdtempSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Cli, buildCli, collect, hostLine, journalEvents, startHostServer, waitFor, write, type TestHostServer } from '../engine/cli-harness.js';

let cli: Cli;
const servers: TestHostServer[] = [];

beforeAll(() => {
  cli = new Cli(buildCli());
}, 300_000);

afterAll(async () => {
  for (const s of servers) {
    signal(s.sshd.sessionPids(), 'SIGCONT');
    await s.sshd.stop();
  }
});

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, sig);
    } catch {
      // gone
    }
  }
}

const stallRunbook = (timeout: string) => `
name: stall
summary: a command the host stops answering in the middle of
steps:
  - id: wait
    name: wait on the host
    hosts: all
    run: echo started; sleep 120
${timeout ? `    timeout: ${timeout}\n` : ''}`;

async function stalledRun(options: { vars?: Record<string, string>; args?: string[]; timeout?: string; collectMs: number }) {
  const server = await startHostServer();
  servers.push(server);
  const dir = mkdtempSync(join(tmpdir(), 'remedy-keepalive-'));
  const inventory = write(join(dir, 'inventory.yaml'), `all:\n  hosts:\n${hostLine('h1', server, options.vars ?? {})}\n`);
  const knownHosts = write(join(dir, 'known_hosts'), `${server.sshd.knownHostsLine}\n`);
  const rb = write(join(dir, 'stall.yaml'), stallRunbook(options.timeout ?? ''));
  const runDir = join(dir, 'run');
  const child = cli.spawn(['run', rb, '-i', inventory, '--known-hosts', knownHosts, '--run-dir', runDir, ...(options.args ?? [])], dir);
  const done = collect(child, options.collectMs);
  await waitFor(() => journalEvents(runDir).some((e) => e.type === 'host-start'), 60_000, 'the command to start');
  await new Promise((r) => setTimeout(r, 300));
  const frozen = server.sshd.sessionPids();
  expect(frozen.length).toBeGreaterThan(0);
  signal(frozen, 'SIGSTOP');
  const ran = await done;
  // Still frozen when remedy exited: it did not wait for the host to answer again.
  const stillStopped = frozen.filter((p) => {
    try {
      return /^State:\s+T/m.test(readFileSync(`/proc/${p}/status`, 'utf8'));
    } catch {
      return false;
    }
  });
  signal(frozen, 'SIGCONT');
  return { ran, runDir, stillStopped };
}

describe('a host that stops answering', () => {
  test('ansible_ssh_common_args ServerAliveInterval=1, ServerAliveCountMax=2: unreachable (exit 4) by keepalive, long before the 45 s default', async () => {
    const { ran, runDir, stillStopped } = await stalledRun({
      vars: { ansible_ssh_common_args: '-o ServerAliveInterval=1 -o ServerAliveCountMax=2' },
      collectMs: 40_000,
    });
    expect(ran.signal, ran.stderr).toBeNull();
    expect(ran.code, ran.stderr).toBe(4);
    expect(stillStopped.length).toBeGreaterThan(0);
    expect(readFileSync(join(runDir, 'journal.jsonl'), 'utf8')).toMatch(/Keepalive timeout/);
    expect(JSON.parse(readFileSync(join(runDir, 'result.json'), 'utf8'))).toMatchObject({ outcome: 'unreachable', hosts: { h1: { status: 'unreachable' } } });
  }, 120_000);

  test('--server-alive-interval/--server-alive-count-max win over the inventory', async () => {
    const { ran, runDir } = await stalledRun({
      vars: { ansible_ssh_common_args: '-o ServerAliveInterval=600 -o ServerAliveCountMax=5' },
      args: ['--server-alive-interval', '1', '--server-alive-count-max', '2'],
      collectMs: 40_000,
    });
    expect(ran.signal, ran.stderr).toBeNull();
    expect(ran.code, ran.stderr).toBe(4);
    expect(readFileSync(join(runDir, 'journal.jsonl'), 'utf8')).toMatch(/Keepalive timeout/);
  }, 120_000);

  test('after a step timeout on a stalled host the process exits with the host still silent, result files written', async () => {
    // A keepalive far longer than the test: only a destroyed connection lets the process end.
    const { ran, runDir, stillStopped } = await stalledRun({ timeout: '2s', args: ['--server-alive-interval', '600'], collectMs: 90_000 });
    expect(ran.signal, `remedy did not exit while the host was silent\n${ran.stderr}`).toBeNull();
    expect(ran.code, ran.stderr).toBe(1);
    expect(stillStopped.length).toBeGreaterThan(0);
    expect(journalEvents(runDir).find((e) => e.type === 'host-end')).toMatchObject({ host: 'h1', status: 'timed-out' });
    for (const f of ['result.json', 'report.md']) expect(existsSync(join(runDir, f)), f).toBe(true);
  }, 150_000);
});
