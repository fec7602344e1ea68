// `lab up` and `lab down`: build the hosts, start every process (sshd per host, backend, MP JVMs,
// Router nginx), wait until each Router answers 200; stop them all by pid and check that nothing
// is left listening.
import { existsSync, mkdirSync, readdirSync, rmSync, chmodSync } from 'node:fs';
import { RemedyError, UsageError } from '../errors.js';
import { childPids, cmdline, isAlive, readPidFile, run, stopPids } from './exec.js';
import { mountsUnder, unmountLab } from './faults.js';
import { HostWriter, writeHost, writeShared } from './hosts.js';
import { renderInventory } from './inventory.js';
import { buildJavaArtifacts, installJavaArtifacts } from './java.js';
import { allocatePortBlock } from './ports.js';
import { checkPrerequisites, javaBinary } from './prereqs.js';
import { renderSshConfig, renderSudoers } from './render.js';
import { apigeeServiceOk, backendPid, startBackend, waitForRouters } from './services.js';
import { startSshd, writeSshFiles } from './ssh.js';
import { hasState, labInfo, readState, resolveLabDir, writeState } from './state.js';
import { allPorts, apigeePaths, buildTopology, DEFAULTS, defaultBasePort, labPaths, mps, portCount, routers, sshdPaths, validateShape } from './topology.js';
import type { LabInfo, LabState, LabUpOptions } from './types.js';
import { ensureUsers, installSudoers, labUsers, removeSudoers, sudoersFileFor, userIds } from './users.js';

const ROUTERS_HEALTHY_TIMEOUT_MS = 30_000;

export async function labUp(opts: LabUpOptions = {}): Promise<LabInfo> {
  const started = Date.now();
  const log = opts.log ?? (() => {});
  const dir = resolveLabDir(opts.dir);
  const shape = {
    regions: opts.regions ?? DEFAULTS.regions,
    mpsPerRegion: opts.mpsPerRegion ?? DEFAULTS.mpsPerRegion,
    org: opts.org ?? DEFAULTS.org,
    env: opts.env ?? DEFAULTS.env,
  };
  validateShape(shape);
  checkPrerequisites();
  prepareDir(dir);
  const users = labUsers();
  await ensureUsers(users);
  const basePort = await allocatePortBlock(portCount(shape), opts.basePort ?? defaultBasePort(dir), opts.basePort !== undefined);
  const topology = buildTopology(dir, shape, basePort);
  const state: LabState = {
    version: 1,
    topology,
    users,
    javaBin: javaBinary(),
    pids: { sshd: {} },
    faults: [],
    startedAt: new Date().toISOString(),
    running: true,
  };
  writeState(state); // from here on, `down` can clean up whatever has started
  try {
    await startLab(state, log);
  } catch (err) {
    log('remedy lab: start failed; stopping what was started');
    await labDown(dir).catch(() => undefined);
    throw err;
  }
  return { ...labInfo(state), elapsedMs: Date.now() - started };
}

/** A fresh directory, or a stopped lab's (wiped), never a running lab's or someone else's. */
function prepareDir(dir: string): void {
  if (existsSync(dir)) {
    if (hasState(dir)) {
      const running = livePids(readState(dir));
      if (running.length) throw new UsageError(`a lab is already running in ${dir} (${running.length} processes); run: remedy lab down --dir ${dir}`);
      rmSync(dir, { recursive: true, force: true });
    } else if (readdirSync(dir).length > 0) {
      throw new UsageError(`${dir} exists and is not a lab directory (no lab.json); choose another --dir`);
    }
  }
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755); // the service user and the login user read scripts and keys under it
}

async function startLab(state: LabState, log: (line: string) => void): Promise<void> {
  const t = state.topology;
  const lp = labPaths(t.dir);
  const service = state.users.become === 'sudo' ? await userIds(state.users.service) : null;
  const w = new HostWriter(service);
  if (service) await checkServiceUserReaches(state.users.service, t.dir);

  const ports = allPorts(t);
  log(`remedy lab: building ${t.hosts.length} hosts in ${t.dir} (127.0.0.1 ports ${ports[0]}-${ports[ports.length - 1]})`);
  const [javaCache] = await Promise.all([buildJavaArtifacts(), writeSshFiles(w, t, state.users)]);
  w.dir(lp.javaDir);
  installJavaArtifacts(javaCache, lp.classes, lp.javaDir);
  writeShared(w, t);
  const runtime = { users: state.users, javaBin: state.javaBin, classes: lp.classes, registry: lp.registry };
  for (const h of t.hosts) writeHost(w, t, h, runtime, lp);
  w.file(lp.inventory, renderInventory(t, { users: state.users, privateKey: lp.privateKey, knownHosts: lp.knownHosts }));
  w.file(lp.sshConfig, renderSshConfig(t, state.users, lp.privateKey, lp.knownHosts));
  if (state.users.become === 'sudo') {
    state.sudoersFile = sudoersFileFor(t.dir);
    await installSudoers(state.sudoersFile, renderSudoers(t, state.users));
  }
  writeState(state);

  log('remedy lab: starting sshd on every host, the backend and the Message Processors');
  const sshdPids = Promise.all(
    t.hosts.map(async (h) => {
      state.pids.sshd[h.name] = await startSshd(h);
    }),
  );
  const backend = startBackend(state, lp.classes).then((pid) => {
    state.pids.backend = pid;
  });
  await Promise.all([sshdPids, backend, ...mps(t).map((mp) => apigeeServiceOk(mp, 'start'))]);
  writeState(state);

  log('remedy lab: starting the Routers');
  await Promise.all(routers(t).map((r) => apigeeServiceOk(r, 'start')));
  await waitForRouters(routers(t), ROUTERS_HEALTHY_TIMEOUT_MS);
  writeState(state);
}

async function checkServiceUserReaches(user: string, dir: string): Promise<void> {
  const r = await run('setpriv', [`--reuid=${user}`, `--regid=${user}`, '--init-groups', '--', 'test', '-x', dir]);
  if (r.code !== 0) {
    throw new RemedyError(
      `the service user ${user} cannot reach ${dir}: every parent directory must be searchable by others (chmod o+x), or choose a --dir such as /tmp/remedy-lab`,
    );
  }
}

/** Processes of this lab still alive: sshd and backend pids, and the pid files of MPs and Routers. */
function livePids(state: LabState): number[] {
  const t = state.topology;
  const pids = new Set<number>();
  for (const h of t.hosts) {
    const p = apigeePaths(h.apigeeRoot);
    for (const pid of [state.pids.sshd[h.name], readPidFile(sshdPaths(h).pidFile), readPidFile(h.role === 'router' ? p.routerPidFile : p.mpPidFile)]) {
      if (pid) pids.add(pid);
    }
  }
  const backend = backendPid(state);
  if (backend) pids.add(backend);
  if (state.pids.backend) pids.add(state.pids.backend);
  return [...pids].filter((pid) => isAlive(pid) && belongsToLab(pid, t.dir));
}

/** Markers that appear in the command line of every process the lab starts (and no other). */
function labMarkers(dir: string): string[] {
  return [`${dir}/hosts/`, `${dir}/java/`];
}

function belongsToLab(pid: number, dir: string): boolean {
  const cmd = cmdline(pid);
  return labMarkers(dir).some((m) => cmd.includes(m));
}

/** Every live process whose command line names this lab (strays a runbook may have started). */
function sweepLabProcesses(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid || pid === process.ppid) continue;
    if (isAlive(pid) && belongsToLab(pid, dir)) found.push(pid);
  }
  return found;
}

async function listeningPorts(ports: number[]): Promise<Map<number, string>> {
  const wanted = new Set(ports);
  const r = await run('ss', ['-ltnpH']);
  const busy = new Map<number, string>();
  for (const line of r.stdout.split('\n')) {
    const local = line.trim().split(/\s+/)[3];
    const port = Number(local?.slice(local.lastIndexOf(':') + 1));
    if (wanted.has(port)) busy.set(port, line.trim());
  }
  return busy;
}

export interface LabDownOptions {
  /** Also delete the lab directory (logs included). */
  purge?: boolean;
}

/** Stops every process of the lab by pid, removes the sudoers drop-in, checks no port is left. */
export async function labDown(dir?: string, opts: LabDownOptions = {}): Promise<void> {
  const abs = resolveLabDir(dir);
  const state = readState(abs);
  const t = state.topology;
  const pids = new Set<number>([...livePids(state), ...sweepLabProcesses(abs)]);
  // nginx workers' command lines do not name the lab: take them as children of their master.
  for (const pid of [...pids]) if (cmdline(pid).startsWith('nginx: master')) for (const c of childPids(pid)) pids.add(c);
  const survivors = await stopPids([...pids]);
  removeSudoers(state.sudoersFile);
  await unmountLab(abs).catch(() => undefined); // mp-disk-full's filesystems; a left one is reported below
  const problems: string[] = [];
  if (survivors.length) problems.push(`processes still alive after SIGKILL: ${survivors.join(', ')}`);
  for (const m of mountsUnder(abs)) problems.push(`${m} is still mounted`);
  const busy = await listeningPorts(allPorts(t));
  for (const [port, line] of busy) problems.push(`port ${port} is still listening: ${line}`);

  state.running = false;
  state.pids = { sshd: {} };
  state.faults = [];
  state.mounts = [];
  writeState(state);
  if (problems.length) throw new RemedyError(`remedy lab down: ${abs}:\n  ${problems.join('\n  ')}`);
  if (opts.purge) rmSync(abs, { recursive: true, force: true });
}
