// Inventory passwords (issue 17, defect 3): ansible_password / ansible_ssh_pass log in by SSH
// password, ansible_become_pass feeds sudo, and none of them appears anywhere: plan output in
// every format, plan.json, journal, result, outputs, reports, console, `remedy inventory`.
// Against a real sshd that allows password authentication for a throwaway non-root user only.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLoginUser, type LoginUser } from '../helpers/login-user.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { Cli, buildCli, write } from './cli-harness.js';

let cli: Cli;
let user: LoginUser;
let sshd: Sshd;
let lockTmp: string;

beforeAll(async () => {
  cli = new Cli(buildCli());
  user = createLoginUser();
  lockTmp = mkdtempSync(join(tmpdir(), 'remedy-pw-locks-'));
  chmodSync(lockTmp, 0o1777);
  sshd = await startSshd({ extraConfig: [`Match User ${user.name}`, 'PasswordAuthentication yes', `SetEnv TMPDIR=${lockTmp}`] });
}, 120_000);

afterAll(async () => {
  await sshd?.stop();
  user?.remove();
});

function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...allFiles(p));
    else out.push(p);
  }
  return out;
}

const runbook = `
name: pw
summary: become root and say so
steps:
  - id: become
    name: become root
    hosts: all
    become: true
    run: test "$(id -un)" = root && echo "became root with {{ ansible_become_pass }} and {{ hostvars['h1'].ansible_password }} {{ hostvars['h2'].ansible_ssh_pass }}"
  - id: done
    name: done
    outcome: { status: resolved, message: "logged in with {{ hostvars['h1'].ansible_password }}" }
`;

function inventory(dir: string, password: string, becomeCanary: string): string {
  const host = (name: string, passVar: string) =>
    `    ${name}: { ansible_host: 127.0.0.1, ansible_port: ${sshd.port}, ansible_user: ${user.name}, ${passVar}: ${JSON.stringify(password)} }`;
  return write(
    join(dir, 'inventory.yaml'),
    `all:\n  vars:\n    ansible_become_pass: ${JSON.stringify(becomeCanary)}\n    ansible_ssh_password: ${JSON.stringify(password)}\n  hosts:\n${host('h1', 'ansible_password')}\n${host('h2', 'ansible_ssh_pass')}\n`,
  );
}

describe('inventory passwords over real sshd', () => {
  test('log in by password, become with the become password, and never show either', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'remedy-pw-'));
    const becomeCanary = `BecomeCanary-${randomBytes(6).toString('hex')}`;
    const canaries = [user.password, becomeCanary];
    const inv = inventory(dir, user.password, becomeCanary);
    const rb = write(join(dir, 'pw.yaml'), runbook);
    const knownHosts = write(join(dir, 'known_hosts'), `${sshd.knownHostsLine}\n`);
    const seen: string[] = [];

    for (const format of ['text', 'json', 'markdown', 'mermaid']) {
      const plan = await cli.run(['plan', rb, '-i', inv, '-f', format], dir);
      expect(plan.code, plan.stderr).toBe(0);
      seen.push(`plan -f ${format}`, plan.stdout, plan.stderr);
    }
    const text = await cli.run(['plan', rb, '-i', inv], dir);
    expect(text.stdout).toContain('********');
    for (const args of [['--list'], ['--host', 'h1'], ['--host', 'h2']]) {
      const shown = await cli.run(['inventory', '-i', inv, ...args], dir);
      expect(shown.code, shown.stderr).toBe(0);
      seen.push(shown.stdout, shown.stderr);
    }

    const runDir = join(dir, 'run');
    const run = await cli.run(['run', rb, '-i', inv, '--known-hosts', knownHosts, '--yes', '--run-dir', runDir], dir);
    expect(run.code, run.stderr).toBe(0);
    seen.push(run.stdout, run.stderr);
    const result = JSON.parse(readFileSync(join(runDir, 'result.json'), 'utf8'));
    expect(result).toMatchObject({ outcome: 'resolved', hosts: { h1: { status: 'ok' }, h2: { status: 'ok' } } });
    expect(readFileSync(join(runDir, 'outputs/become/h1.stdout'), 'utf8')).toBe('became root with ******** and ******** ********\n');
    for (const format of ['html', 'json', 'markdown']) {
      const report = await cli.run(['report', runDir, '-f', format], dir);
      expect(report.code, report.stderr).toBe(0);
      seen.push(report.stdout, report.stderr);
    }
    for (const f of allFiles(runDir)) seen.push(readFileSync(f, 'latin1'));
    for (const c of canaries) expect(seen.filter((s) => s.includes(c)).map((s) => s.slice(0, 200))).toEqual([]);
  }, 180_000);

  test('a wrong password: unreachable (exit 4), saying password authentication failed, without the password', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'remedy-pw-'));
    const wrong = `Wrong-${randomBytes(6).toString('hex')}`;
    const inv = inventory(dir, wrong, 'unused-become');
    const rb = write(join(dir, 'pw.yaml'), runbook);
    const knownHosts = write(join(dir, 'known_hosts'), `${sshd.knownHostsLine}\n`);
    const run = await cli.run(['run', rb, '-i', inv, '--known-hosts', knownHosts, '--yes', '--run-dir', join(dir, 'run')], dir);
    expect(run.code, run.stderr).toBe(4);
    const files = allFiles(join(dir, 'run')).map((f) => readFileSync(f, 'latin1'));
    expect(readFileSync(join(dir, 'run/journal.jsonl'), 'utf8')).toMatch(/authentication failed for user remedy-t\w+ \(tried password \(ansible_password\)\)/);
    expect([run.stdout, run.stderr, ...files].filter((s) => s.includes(wrong))).toEqual([]);
  }, 120_000);
});
