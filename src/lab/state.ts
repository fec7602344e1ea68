// `<dir>/lab.json`: the lab's memory between commands (topology, users, pids, applied faults).
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { labPaths, routers, routerUrl } from './topology.js';
import type { LabInfo, LabState } from './types.js';

export const DEFAULT_LAB_DIR = '.remedy-lab';

/**
 * The lab directory as an absolute path. Paths end up in nginx and sshd configs, which do not
 * quote, so only plain characters are accepted.
 */
export function resolveLabDir(dir: string | undefined): string {
  const abs = resolve(dir ?? DEFAULT_LAB_DIR);
  if (!/^[A-Za-z0-9_./+@-]+$/.test(abs)) {
    throw new UsageError(`lab directory ${JSON.stringify(abs)} contains characters nginx and sshd configs cannot hold; use letters, digits and _ . / + @ -`);
  }
  return abs;
}

export function hasState(dir: string): boolean {
  return existsSync(labPaths(dir).state);
}

export function readState(dir: string): LabState {
  const file = labPaths(dir).state;
  if (!existsSync(file)) throw new UsageError(`no lab in ${dir} (no lab.json); start one with: remedy lab up --dir ${dir}`);
  const state = JSON.parse(readFileSync(file, 'utf8')) as LabState;
  if (state.version !== 1) throw new UsageError(`${file}: unsupported lab state version ${String(state.version)}`);
  return state;
}

export function writeState(state: LabState): void {
  const file = labPaths(state.topology.dir).state;
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

export function labInfo(state: LabState): LabInfo {
  const t = state.topology;
  const lp = labPaths(t.dir);
  return {
    dir: t.dir,
    inventory: lp.inventory,
    knownHosts: lp.knownHosts,
    sshConfig: lp.sshConfig,
    privateKeyFile: lp.privateKey,
    loginUser: state.users.login,
    serviceUser: state.users.service,
    becomeMethod: state.users.become,
    backendUrl: `http://127.0.0.1:${t.backendPort}`,
    routers: routers(t).map((r) => ({ name: r.name, region: r.region, url: routerUrl(r) })),
    hosts: t.hosts.map((h) => ({
      name: h.name,
      role: h.role,
      region: h.region,
      sshPort: h.sshPort,
      apigeeRoot: h.apigeeRoot,
      ports: (h.role === 'router'
          ? { router_port: h.routerPort, router_mgmt_port: h.routerMgmtPort, router_health_port: h.routerHealthPort }
          : { mp_port: h.mpPort, mp_tls_port: h.mpTlsPort, mp_mgmt_port: h.mpMgmtPort }) as Record<string, number>,
    })),
  };
}
