// Users when the lab runs as root: a dedicated SSH login user with an empty home (no rc files, so
// remote commands start fast) and the service user `apigee`, plus a sudoers drop-in for the login
// user that `down` removes. Unprivileged labs use the current user for everything.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { RemedyError } from '../errors.js';
import { run, runOk } from './exec.js';
import { isRoot } from './prereqs.js';
import type { LabUsers } from './types.js';

export const LOGIN_USER = 'remedy-lab';
export const SERVICE_USER = 'apigee';

export function labUsers(): LabUsers {
  if (isRoot()) return { login: LOGIN_USER, service: SERVICE_USER, become: 'sudo' };
  const me = userInfo().username;
  return { login: me, service: me, become: 'none' };
}

async function userExists(name: string): Promise<boolean> {
  return (await run('getent', ['passwd', name])).code === 0;
}

/** useradd, tolerating a concurrent lab creating the same user first. */
async function addUser(name: string, args: string[]): Promise<void> {
  if (await userExists(name)) return;
  const r = await run('useradd', [...args, name]);
  if (r.code !== 0 && !(await userExists(name))) throw new RemedyError(`useradd ${name} failed: ${r.stderr.trim()}`);
}

export async function ensureUsers(users: LabUsers): Promise<void> {
  if (users.become !== 'sudo') return;
  await addUser(users.service, ['--system', '--create-home', '--user-group', '--shell', '/bin/bash', '--comment', 'Apigee service user (remedy lab)']);
  const emptySkel = mkdtempSync(join(tmpdir(), 'remedy-lab-skel-'));
  try {
    // '*' (not '!'): an account with a locked password is refused by sshd even with a key.
    await addUser(users.login, ['--create-home', '--skel', emptySkel, '--user-group', '--shell', '/bin/bash', '--password', '*', '--comment', 'remedy lab SSH login']);
  } finally {
    rmSync(emptySkel, { recursive: true, force: true });
  }
  const shadow = await run('getent', ['shadow', users.login]);
  if (shadow.stdout.split(':')[1]?.startsWith('!')) await runOk('usermod', ['--password', '*', users.login]);
}

/** One drop-in per lab directory, so concurrent labs never remove each other's. */
export function sudoersFileFor(dir: string): string {
  return `/etc/sudoers.d/remedy-lab-${createHash('sha256').update(dir).digest('hex').slice(0, 12)}`;
}

export async function installSudoers(file: string, content: string): Promise<void> {
  const tmp = `${file}.tmp`; // sudo ignores names containing '.', so a half-written file is never read
  writeFileSync(tmp, content, { mode: 0o440 });
  const check = await run('visudo', ['-c', '-q', '-f', tmp]);
  if (check.code !== 0) {
    rmSync(tmp, { force: true });
    throw new RemedyError(`the lab's sudoers drop-in did not pass visudo -c: ${check.stderr.trim() || check.stdout.trim()}`);
  }
  renameSync(tmp, file);
}

export function removeSudoers(file: string | undefined): void {
  if (!file) return;
  try {
    if (readFileSync(file, 'utf8').includes('remedy lab')) rmSync(file, { force: true });
  } catch {
    // already removed
  }
}

/** uid/gid of a user, for chown. */
export async function userIds(name: string): Promise<{ uid: number; gid: number }> {
  const r = await runOk('getent', ['passwd', name]);
  const f = r.stdout.trim().split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}
