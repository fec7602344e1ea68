// One real OpenSSH sshd per lab host (own port, own host key), the lab's client key, and the
// known_hosts file that pins every host key so strict host-key checking works out of the box.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { RemedyError } from '../errors.js';
import { readAsset } from './assets.js';
import { isAlive, readPidFile, runOk, waitFor } from './exec.js';
import type { HostWriter } from './hosts.js';
import { isRoot } from './prereqs.js';
import { renderKnownHosts, renderSshdConfig } from './render.js';
import { labPaths, sshdPaths } from './topology.js';
import type { LabHost, LabTopology, LabUsers } from './types.js';

async function keygen(file: string, comment: string): Promise<string> {
  rmSync(file, { force: true });
  rmSync(`${file}.pub`, { force: true });
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { what: `ssh-keygen ${file}` });
  return readFileSync(`${file}.pub`, 'utf8').trim();
}

/** Client key, host keys, sshd configs, authorized_keys and known_hosts. */
export async function writeSshFiles(w: HostWriter, t: LabTopology, users: LabUsers): Promise<void> {
  const lp = labPaths(t.dir);
  const [clientPub, ...hostPubs] = await Promise.all([
    keygen(lp.privateKey, `remedy-lab@${t.dir}`),
    ...t.hosts.map((h) => keygen(sshdPaths(h).hostKey, `${h.name}@remedy-lab`)),
  ]);
  if (clientPub === undefined) throw new Error('ssh-keygen produced no client key');
  w.file(lp.authorizedKeys, `${clientPub}\n`);
  w.file(lp.knownHosts, renderKnownHosts(t.hosts.map((h, i) => ({ port: h.sshPort, publicKey: hostPubs[i] ?? '' }))));
  const template = readAsset('templates/sshd_config');
  for (const h of t.hosts) {
    w.file(sshdPaths(h).config, renderSshdConfig(template, h, lp.authorizedKeys, users.login));
    const tmp = sshdPaths(h).tmpDir;
    mkdirSync(tmp, { recursive: true });
    chmodSync(tmp, 0o1777); // sticky and world-writable, like /tmp
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
    s.setTimeout(500, () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** Starts the host's sshd (it daemonizes and writes its pid file) and returns its pid. */
export async function startSshd(h: LabHost): Promise<number> {
  const p = sshdPaths(h);
  if (isRoot() && !existsSync('/run/sshd')) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation dir
  rmSync(p.pidFile, { force: true });
  await runOk('/usr/sbin/sshd', ['-f', p.config, '-E', p.log], { what: `starting sshd for ${h.name}` });
  const ok = await waitFor(async () => readPidFile(p.pidFile) !== null && (await portOpen(h.sshPort)), 5000, 50);
  const pid = readPidFile(p.pidFile);
  if (!ok || pid === null || !isAlive(pid)) {
    const log = existsSync(p.log) ? readFileSync(p.log, 'utf8').trim().split('\n').slice(-3).join('\n') : '';
    throw new RemedyError(`sshd for ${h.name} did not start on 127.0.0.1:${h.sshPort}${log ? `:\n${log}` : ''}`);
  }
  return pid;
}
