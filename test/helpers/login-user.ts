// A throwaway, non-root login user for tests that need what root cannot show: SSH password
// authentication, and a `become` whose target the login user cannot signal itself. Created with
// useradd under a random name and a random password, given sudo rights through its own sudoers
// drop-in (checked with visudo), and removed again (userdel, drop-in deleted) by remove().
// Needs root, like the lab's users (lab/install-prereqs.sh installs sudo).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

export interface LoginUser {
  name: string;
  password: string;
  /** Removes the user and its sudoers drop-in. */
  remove(): void;
}

function run(cmd: string, args: string[], input?: string): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${(r.stderr || r.error?.message || '').trim()}`);
}

export function createLoginUser(): LoginUser {
  if (process.getuid?.() !== 0) throw new Error('creating a test login user needs root (the e2e tests run as root, as in CI)');
  const name = `remedy-t${randomBytes(3).toString('hex')}`;
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  // Home `/`: sshd can chdir there, and the session gets the test sshd's HOME anyway.
  run('useradd', ['--no-create-home', '--home-dir', '/', '--shell', '/bin/sh', '--comment', 'remedy test login (removed after the test)', name]);
  const sudoers = `/etc/sudoers.d/${name}`;
  try {
    run('chpasswd', [], `${name}:${password}\n`);
    const tmp = `${sudoers}.tmp`; // sudo ignores names with a '.', so a half-written file is never read
    writeFileSync(tmp, `Defaults:${name} !requiretty, !lecture\n${name} ALL=(ALL:ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
    run('visudo', ['-c', '-q', '-f', tmp]);
    renameSync(tmp, sudoers);
  } catch (err) {
    rmSync(`${sudoers}.tmp`, { force: true });
    spawnSync('userdel', [name]);
    throw err;
  }
  return {
    name,
    password,
    remove: () => {
      rmSync(sudoers, { force: true });
      // Anything a failed test left running as this user (it started them), by PID.
      const uid = Number(spawnSync('id', ['-u', name], { encoding: 'utf8' }).stdout.trim());
      if (uid > 0) for (const pid of pidsOfUid(uid)) killQuietly(pid);
      spawnSync('userdel', ['--force', name]);
    },
  };
}

/** PIDs whose real uid is `uid` (from /proc). */
export function pidsOfUid(uid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const line = readFileSync(`/proc/${e}/status`, 'utf8').match(/^Uid:\s+(\d+)/m);
      if (line && Number(line[1]) === uid) out.push(Number(e));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}
