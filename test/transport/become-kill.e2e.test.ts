// A timed-out command run through `become` (issue 17, defect 4), against real sshd: the kill goes
// through the same become path and reaches the command's whole process tree, also a part that
// ignores SIGTERM or sits in a session of its own (as sudo's use_pty puts the command), and the
// result says what the host confirmed. The login user for sudo is a throwaway non-root user:
// it cannot signal the root command itself, which is what made the old kill miss it.
import { randomInt } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeKill } from '../../src/engine/host-exec.js';
import { wrapBecome, type BecomeRequest } from '../../src/shell/become.js';
import { TransportPool } from '../../src/transport/index.js';
import { createLoginUser, type LoginUser } from '../helpers/login-user.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { makeHost } from './support.js';

let sshd: Sshd;
let user: LoginUser;
const pools: TransportPool[] = [];

beforeAll(async () => {
  user = createLoginUser();
  const tmp = mkdtempSync(join(tmpdir(), 'remedy-become-kill-'));
  chmodSync(tmp, 0o1777);
  sshd = await startSshd({ extraConfig: [`Match User ${user.name}`, 'PasswordAuthentication yes', `SetEnv TMPDIR=${tmp}`] });
}, 60_000);

afterAll(async () => {
  for (const p of pools) await p.closeAll();
  await sshd?.stop();
  user?.remove();
});

/** PIDs of processes whose command line contains `needle` (this machine is the host). */
function processesWith(needle: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const state = readFileSync(`/proc/${e}/stat`, 'utf8');
      if (cmd.includes(needle) && state.slice(state.lastIndexOf(')') + 2, state.lastIndexOf(')') + 3) !== 'Z') out.push(Number(e));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

function transportFor(login: 'throwaway' | 'root') {
  const pool = new TransportPool({ knownHostsFiles: [sshd.knownHostsFile], agent: false, sshConfigFile: false, killGraceMs: 1000 });
  pools.push(pool);
  const connection = login === 'root' ? sshd.connectionFor() : sshd.connectionFor({ user: user.name, privateKeyFile: undefined, password: user.password });
  return pool.get(makeHost(`h-${login}`, connection));
}

/** A sleep no other test runs: `sleep 300.<random>` (GNU sleep takes fractions). */
const uniqueSleep = () => `300.${randomInt(100000, 999999)}`;

async function timedOut(login: 'throwaway' | 'root', become: BecomeRequest, script: (sleep: string) => string) {
  const sleep = uniqueSleep();
  const wrapped = wrapBecome(script(sleep), become);
  const t = transportFor(login);
  const started = t.exec(wrapped.command, { timeoutMs: 1500, stdin: wrapped.stdinPrefix, killPath: wrapped.killPath });
  const r = await started;
  return { r, sleep, left: processesWith(`sleep ${sleep}`) };
}

const ignoresTerm = (sleep: string) => `trap '' TERM; echo started; sleep ${sleep}; echo finished`;

describe('a timed-out become command is killed through its become path', () => {
  it('sudo to root from a non-root login, the command ignoring SIGTERM: nothing is left, and the result says KILL through sudo', async () => {
    const { r, sleep, left } = await timedOut('throwaway', { method: 'sudo', user: 'root' }, ignoresTerm);
    expect(r.timedOut).toBe(true);
    expect(r.stdout).toBe('started\n');
    expect(left, `sleep ${sleep} still running as root`).toEqual([]);
    expect(r.kill).toMatchObject({ via: 'sudo as root', signals: ['TERM', 'KILL'], left: [] });
    expect(describeKill(r.kill)).toBe('killed (TERM, then KILL through sudo as root); nothing of it is left running');
  }, 60_000);

  it('sudo with a become password on stdin: the kill feeds it to sudo again', async () => {
    const { r, left } = await timedOut('throwaway', { method: 'sudo', user: 'root', password: 'not-needed-with-NOPASSWD' }, ignoresTerm);
    expect(r.timedOut).toBe(true);
    expect(left).toEqual([]);
    expect(r.kill?.left).toEqual([]);
  }, 60_000);

  it('a command in a session of its own under sudo (as use_pty makes it): reached through the process tree', async () => {
    const { r, left } = await timedOut('throwaway', { method: 'sudo', user: 'root' }, (sleep) => `setsid sh -c "trap '' TERM; sleep ${sleep}" & wait`);
    expect(r.timedOut).toBe(true);
    expect(left).toEqual([]);
    expect(r.kill).toMatchObject({ via: 'sudo as root', left: [] });
  }, 60_000);

  it('runuser from a root login to the throwaway user, ignoring SIGTERM: nothing is left', async () => {
    const { r, left } = await timedOut('root', { method: 'runuser', user: user.name }, ignoresTerm);
    expect(r.timedOut).toBe(true);
    expect(left).toEqual([]);
    expect(r.kill).toMatchObject({ via: `runuser as ${user.name}`, signals: ['TERM', 'KILL'], left: [] });
  }, 60_000);

  it('a command that stops on TERM gets no KILL, and the report says TERM was enough', async () => {
    const { r, left } = await timedOut('throwaway', { method: 'sudo', user: 'root' }, (sleep) => `echo started; sleep ${sleep}`);
    expect(r.timedOut).toBe(true);
    expect(left).toEqual([]);
    expect(r.kill).toMatchObject({ via: 'sudo as root', signals: ['TERM'], left: [] });
  }, 60_000);
});
