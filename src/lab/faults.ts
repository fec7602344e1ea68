// `lab break` and `lab heal`. Every fault goes through the real components — properties files and
// restarts through apigee-service, process kills, the MP's and backend's control endpoints — so
// the symptoms (status codes, nginx log lines, thread dumps) are produced, never written.
import { chownSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { isAlive, run, runOk, signal, waitFor } from './exec.js';
import { HostWriter, truststoreBundle, writeHost } from './hosts.js';
import { renderMpCustomerProperties, renderMpTokenDefaults, withMpTls } from './render.js';
import { apigeeServiceOk, backendFault, backendPid, clearConfD, mpControl, mpReady, servicePid, startBackend, waitForRouters } from './services.js';
import { startSshd } from './ssh.js';
import { readState, resolveLabDir, writeState } from './state.js';
import { actsOnRouters, mpsBehind, orderFaults, resolveMpTargets, resolveRouterTargets, routersFor, type FaultRequest } from './targets.js';
import { apigeePaths, isRouter, labPaths, mps, routers } from './topology.js';
import { SCENARIOS, type AppliedFault, type LabMpHost, type LabRouterHost, type LabState, type Scenario } from './types.js';
import { userIds } from './users.js';

export function parseScenario(name: string): Scenario {
  const s = SCENARIOS.find((x) => x === name);
  if (!s) throw new UsageError(`unknown scenario ${JSON.stringify(name)}; scenarios: ${SCENARIOS.join(', ')}`);
  return s;
}

/** Rewrites a file in place, so it keeps its owner (the service user) and mode. */
async function rewrite(state: LabState, path: string, content: string): Promise<boolean> {
  const before = existsSync(path) ? readFileSync(path, 'utf8') : null;
  if (before === content) return false;
  writeFileSync(path, content);
  if (before === null && state.users.become === 'sudo') {
    const { uid, gid } = await userIds(state.users.service);
    chownSync(path, uid, gid);
  }
  return true;
}

/** Stop, delete conf.d, start: the documented way to make a Router regenerate its config. */
async function regenerateRouter(r: LabRouterHost): Promise<void> {
  await apigeeServiceOk(r, 'stop');
  clearConfD(r);
  await apigeeServiceOk(r, 'start');
}

async function setMpTls(state: LabState, mp: LabMpHost, port: number): Promise<void> {
  const file = apigeePaths(mp.apigeeRoot).mpProperties;
  const current = existsSync(file) ? readFileSync(file, 'utf8') : renderMpCustomerProperties(mp);
  await rewrite(state, file, withMpTls(current, mp, port));
  await apigeeServiceOk(mp, 'restart');
}

/** How long mp-slow holds each request: well past the lab Router's 3 s read timeout. */
export const MP_SLOW_DELAY_MS = 8000;
/** Size of the filesystem mp-disk-full mounts over the dump directory (MP heaps are 64 MB). */
export const DISK_FULL_SIZE = '2m';

/** Live mount points at or under a directory (from /proc/self/mountinfo, octal escapes decoded). */
export function mountsUnder(dir: string): string[] {
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const decode = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return text
    .split('\n')
    .map((l) => decode(l.split(' ')[4] ?? ''))
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length); // deepest first
}

/** Unmounts everything the lab mounted under its directory (mp-disk-full); lazily if busy. */
export async function unmountLab(dir: string): Promise<void> {
  for (const m of mountsUnder(dir)) {
    const r = await run('umount', [m]);
    if (r.code !== 0) await runOk('umount', ['-l', m], { what: `unmounting ${m}` });
  }
}

async function fillDumpDir(state: LabState, mp: LabMpHost): Promise<string> {
  const dir = apigeePaths(mp.apigeeRoot).mpDumpDir;
  if (mountsUnder(dir).includes(dir)) return dir;
  if (process.getuid?.() !== 0) throw new UsageError('mp-disk-full mounts a small filesystem over the MPs\' dump directory and needs root; run the lab as root');
  const owner = state.users.become === 'sudo' ? await userIds(state.users.service) : { uid: process.getuid(), gid: process.getgid?.() ?? 0 };
  await runOk('mount', ['-t', 'tmpfs', '-o', `size=${DISK_FULL_SIZE},mode=0755,uid=${owner.uid},gid=${owner.gid}`, 'remedy-lab-disk-full', dir], {
    what: `mounting a ${DISK_FULL_SIZE} filesystem on ${dir}`,
  });
  return dir;
}

/** Applies one fault; returns the hosts it acted on. */
async function applyFault(state: LabState, scenario: Scenario, hosts?: readonly string[]): Promise<string[]> {
  const t = state.topology;
  if (actsOnRouters(scenario)) {
    const front = resolveRouterTargets(t, scenario, hosts);
    if (scenario === 'router-truststore') {
      // The MPs behind these Routers move to TLS correctly (secure port, keystore from the lab
      // CA); the Routers verify them against a bundle that holds only an unrelated CA.
      const lp = labPaths(t.dir);
      await Promise.all(front.map((r) => rewrite(state, apigeePaths(r.apigeeRoot).routerTruststore, truststoreBundle(lp, false))));
      await Promise.all(mpsBehind(t, front).map((mp) => setMpTls(state, mp, mp.mpTlsPort)));
      await Promise.all(front.map(regenerateRouter));
    } else {
      await Promise.all(front.map((r) => apigeeServiceOk(r, 'stop')));
    }
    return front.map((r) => r.name);
  }
  const targets = resolveMpTargets(t, scenario, hosts);
  const front = routersFor(t, targets);
  switch (scenario) {
    case 'mps-down': {
      // A crash, not a clean stop: SIGKILL, and the pid file stays behind as after a real crash.
      const pids = targets.map(servicePid).filter((p): p is number => p !== null);
      for (const pid of pids) signal(pid, 'SIGKILL');
      await waitFor(() => pids.every((p) => !isAlive(p)), 5000);
      break;
    }
    case 'mps-busy':
      await Promise.all(targets.map((mp) => mpControl(mp, 'busy')));
      break;
    case 'mp-slow':
      await Promise.all(targets.map((mp) => mpControl(mp, 'slow', MP_SLOW_DELAY_MS)));
      break;
    case 'mp-disk-full': {
      const mounted = await Promise.all(targets.map((mp) => fillDumpDir(state, mp)));
      state.mounts = [...new Set([...(state.mounts ?? []), ...mounted])];
      break;
    }
    case 'router-mp-tls':
      // TLS switched on, but the port left on the plain-text one; Routers regenerated from it.
      await Promise.all(targets.map((mp) => setMpTls(state, mp, mp.mpPort)));
      await Promise.all(front.map(regenerateRouter));
      break;
    case 'stale-router-config':
      // Routers first hold configs generated for the current MPs; then the MPs move correctly to
      // TLS; the Routers are restarted without clearing conf.d, so the old files stay in force.
      await Promise.all(front.map(regenerateRouter));
      await Promise.all(targets.map((mp) => setMpTls(state, mp, mp.mpTlsPort)));
      await Promise.all(front.map((r) => apigeeServiceOk(r, 'restart')));
      break;
    case 'backend-error':
      await backendFault(state, 502, hosts && hosts.length ? targets.map((m) => m.name) : []);
      break;
  }
  return targets.map((m) => m.name);
}

/**
 * Switches on one or several faults at once, each on its own hosts. They are applied in a fixed
 * order (configuration changes first, see APPLY_ORDER) so that no restart undoes another fault.
 */
export async function labBreakMany(dir: string | undefined, requests: readonly FaultRequest[]): Promise<AppliedFault[]> {
  const state = readState(resolveLabDir(dir));
  if (!state.running) throw new UsageError(`the lab in ${state.topology.dir} is down; run: remedy lab up --dir ${state.topology.dir}`);
  const ordered = orderFaults(requests);
  // Host names are checked for every fault before any is applied.
  for (const r of ordered) {
    if (actsOnRouters(r.scenario)) resolveRouterTargets(state.topology, r.scenario, r.hosts);
    else resolveMpTargets(state.topology, r.scenario, r.hosts);
  }
  const applied: AppliedFault[] = [];
  for (const r of ordered) {
    const hosts = await applyFault(state, r.scenario, r.hosts);
    const fault: AppliedFault = { scenario: r.scenario, hosts, at: new Date().toISOString() };
    state.faults.push(fault);
    applied.push(fault);
    writeState(state);
  }
  return applied;
}

export async function labBreak(dir: string | undefined, scenario: Scenario, hosts?: readonly string[]): Promise<AppliedFault> {
  const [fault] = await labBreakMany(dir, [{ scenario, hosts }]);
  return fault!;
}

/**
 * Back to healthy whatever happened (faults, or a runbook's half-done fix): pristine host files,
 * sshd and backend running, MPs restarted where their config changed or they do not answer,
 * every Router's conf.d regenerated, then every Router answering 200.
 */
export async function labHeal(dir?: string): Promise<void> {
  const state = readState(resolveLabDir(dir));
  if (!state.running) throw new UsageError(`the lab in ${state.topology.dir} is down; run: remedy lab up --dir ${state.topology.dir}`);
  const t = state.topology;
  const lp = labPaths(t.dir);

  // Which MPs need a restart is decided before the files are rewritten.
  const mpNeedsRestart = new Map<string, boolean>();
  await Promise.all(
    mps(t).map(async (mp) => {
      const p = apigeePaths(mp.apigeeRoot);
      const changed = [
        [p.mpProperties, renderMpCustomerProperties(mp)],
        [p.mpTokenDefaults, renderMpTokenDefaults(mp)],
      ].some(([file, pristine]) => !existsSync(file!) || readFileSync(file!, 'utf8') !== pristine);
      mpNeedsRestart.set(mp.name, changed || servicePid(mp) === null || !(await mpReady(mp, 1500)));
    }),
  );
  const service = state.users.become === 'sudo' ? await userIds(state.users.service) : null;
  const w = new HostWriter(service);
  const runtime = { users: state.users, javaBin: state.javaBin, classes: lp.classes, registry: lp.registry };
  await unmountLab(t.dir); // mp-disk-full's filesystems, before the dump directories are rewritten
  state.mounts = [];
  for (const h of t.hosts) writeHost(w, t, h, runtime, lp); // pristine properties, truststores, scripts, configs

  await Promise.all(
    t.hosts.map(async (h) => {
      const pid = state.pids.sshd[h.name];
      if (pid === undefined || !isAlive(pid)) state.pids.sshd[h.name] = await startSshd(h);
    }),
  );
  if (backendPid(state) === null) state.pids.backend = await startBackend(state, lp.classes);
  await backendFault(state, 0);

  await Promise.all(
    mps(t).map(async (mp) => {
      // Release stalled or slowed requests (mps-busy, mp-slow) first: before a stop, or instead of one.
      await mpControl(mp, 'none').catch(() => undefined);
      if (mpNeedsRestart.get(mp.name)) await apigeeServiceOk(mp, 'restart');
    }),
  );
  await Promise.all(t.hosts.filter(isRouter).map(regenerateRouter));
  await waitForRouters(routers(t), 30_000);
  state.faults = [];
  writeState(state);
}
