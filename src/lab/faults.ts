// `lab break` and `lab heal`. Every fault goes through the real components — properties files and
// restarts through apigee-service, process kills, the MP's and backend's control endpoints — so
// the symptoms (status codes, nginx log lines, thread dumps) are produced, never written.
import { chownSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { isAlive, signal, waitFor } from './exec.js';
import { HostWriter, writeHost } from './hosts.js';
import { renderMpCustomerProperties, renderMpTokenDefaults, withMpTls } from './render.js';
import { apigeeServiceOk, backendFault, backendPid, clearConfD, mpControl, mpReady, servicePid, startBackend, waitForRouters } from './services.js';
import { startSshd } from './ssh.js';
import { readState, resolveLabDir, writeState } from './state.js';
import { routersFor, resolveMpTargets } from './targets.js';
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

export async function labBreak(dir: string | undefined, scenario: Scenario, hosts?: readonly string[]): Promise<AppliedFault> {
  const state = readState(resolveLabDir(dir));
  if (!state.running) throw new UsageError(`the lab in ${state.topology.dir} is down; run: remedy lab up --dir ${state.topology.dir}`);
  const t = state.topology;
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
  const fault: AppliedFault = { scenario, hosts: targets.map((m) => m.name), at: new Date().toISOString() };
  state.faults.push(fault);
  writeState(state);
  return fault;
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
  for (const h of t.hosts) writeHost(w, t, h, runtime, lp.keystore); // pristine properties, scripts, configs

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
      if (mpNeedsRestart.get(mp.name)) {
        await mpControl(mp, 'none').catch(() => undefined); // release stalled threads before the stop
        await apigeeServiceOk(mp, 'restart');
      }
    }),
  );
  await Promise.all(t.hosts.filter(isRouter).map(regenerateRouter));
  await waitForRouters(routers(t), 30_000);
  state.faults = [];
  writeState(state);
}
