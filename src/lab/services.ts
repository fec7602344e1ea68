// Drives the lab's components the way an operator would: through each host's apigee-service
// script, the MP's and backend's control endpoints, and HTTP requests through the Routers.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RemedyError } from '../errors.js';
import { shellJoin, shellQuote } from '../shell/quote.js';
import { httpRequest, isAlive, readPidFile, run, runOk, waitFor, type RunResult } from './exec.js';
import { apigeePaths, labPaths, routerUrl } from './topology.js';
import type { LabHost, LabMpHost, LabRouterHost, LabState } from './types.js';

export type Component = 'edge-message-processor' | 'edge-router';

export function componentOf(h: LabHost): Component {
  return h.role === 'router' ? 'edge-router' : 'edge-message-processor';
}

/** Runs `<apigee_root>/apigee-service/bin/apigee-service <component> <verb…>` on the host. */
export function apigeeService(h: LabHost, ...verb: string[]): Promise<RunResult> {
  return run(apigeePaths(h.apigeeRoot).apigeeService, [componentOf(h), ...verb], { timeoutMs: 60_000 });
}

export async function apigeeServiceOk(h: LabHost, ...verb: string[]): Promise<void> {
  const r = await apigeeService(h, ...verb);
  if (r.code !== 0) {
    throw new RemedyError(`${h.name}: apigee-service ${componentOf(h)} ${verb.join(' ')} failed (exit ${r.code}):\n${(r.stderr + r.stdout).trim()}`);
  }
}

/** The component's live pid (from its pid file), or null. */
export function servicePid(h: LabHost): number | null {
  const p = apigeePaths(h.apigeeRoot);
  const pid = readPidFile(h.role === 'router' ? p.routerPidFile : p.mpPidFile);
  return pid !== null && isAlive(pid) ? pid : null;
}

/** Deletes the Router's generated configs (the documented `rm -f /opt/nginx/conf.d/*`). */
export function clearConfD(r: LabRouterHost): void {
  for (const f of readdirSync(r.nginxConfDir)) rmSync(join(r.nginxConfDir, f), { force: true, recursive: true });
}

export async function mpReady(mp: LabMpHost, timeoutMs = 1000): Promise<boolean> {
  const r = await httpRequest(`http://127.0.0.1:${mp.mpMgmtPort}/v1/servers/self/up`, { timeoutMs });
  return r?.status === 200 && r.body.trim() === 'true';
}

/** The MP's fault switch; `slow` holds each API request for `delayMs`. */
export async function mpControl(mp: LabMpHost, mode: 'busy' | 'slow' | 'none', delayMs?: number): Promise<void> {
  const q = `mode=${mode}${delayMs !== undefined ? `&delay=${delayMs}` : ''}`;
  const r = await httpRequest(`http://127.0.0.1:${mp.mpMgmtPort}/lab/fault?${q}`, { method: 'POST', timeoutMs: 3000 });
  if (r?.status !== 200) throw new RemedyError(`${mp.name}: the MP did not accept mode=${mode} on its management port ${mp.mpMgmtPort} (is it running?)`);
}

export async function routerStatus(r: LabRouterHost, timeoutMs = 5000): Promise<number | null> {
  return (await httpRequest(routerUrl(r), { timeoutMs }))?.status ?? null;
}

/** Waits until every Router answers 200, or throws naming the ones that do not. */
export async function waitForRouters(rs: LabRouterHost[], timeoutMs: number): Promise<void> {
  const last = new Map<string, number | null>();
  const ok = await waitFor(
    async () => {
      const statuses = await Promise.all(rs.map((r) => routerStatus(r, 4000)));
      rs.forEach((r, i) => last.set(r.name, statuses[i] ?? null));
      return statuses.every((s) => s === 200);
    },
    timeoutMs,
    200,
  );
  if (!ok) {
    const bad = rs.filter((r) => last.get(r.name) !== 200).map((r) => `${r.name} (${routerUrl(r)}) answered ${last.get(r.name) ?? 'nothing'}`);
    throw new RemedyError(`Routers not healthy after ${Math.round(timeoutMs / 1000)}s: ${bad.join('; ')}`);
  }
}

// ---- backend (the API target behind the MPs) ----

export function backendUrl(state: Pick<LabState, 'topology'>): string {
  return `http://127.0.0.1:${state.topology.backendPort}`;
}

/** Starts the backend JVM as the service user, detached; resolves with its pid once it listens. */
export async function startBackend(state: LabState, classes: string): Promise<number> {
  const lp = labPaths(state.topology.dir);
  rmSync(lp.backendPid, { force: true });
  const java = [
    state.javaBin, '-Xms8m', '-Xmx32m', '-Xss512k', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xshare:auto', '-Djava.net.preferIPv4Stack=true',
    `-Dremedy.lab.dir=${state.topology.dir}`, '-cp', classes, 'LabBackend', String(state.topology.backendPort), lp.backendPid, lp.backendLog,
  ];
  const asService = state.users.become === 'sudo' ? ['setpriv', `--reuid=${state.users.service}`, `--regid=${state.users.service}`, '--init-groups', '--'] : [];
  const out = join(lp.backendDir, 'backend.out');
  // sh only for the redirections; every word is a fixed path or number from the lab state.
  await runOk('sh', ['-c', `${shellJoin(['setsid', '-f', ...asService, ...java])} </dev/null >>${shellQuote(out)} 2>&1`], { what: 'starting the lab backend' });
  const ok = await waitFor(async () => readPidFile(lp.backendPid) !== null && (await httpRequest(`${backendUrl(state)}/`, { timeoutMs: 1000 }))?.status === 200, 15_000);
  const pid = readPidFile(lp.backendPid);
  if (!ok || pid === null) throw new RemedyError(`the lab backend did not start on ${backendUrl(state)}; see ${out}`);
  return pid;
}

export async function backendFault(state: LabState, status: number, mpNames: string[] = []): Promise<void> {
  const q = `status=${status}${mpNames.length ? `&mps=${encodeURIComponent(mpNames.join(','))}` : ''}`;
  const r = await httpRequest(`${backendUrl(state)}/lab/fault?${q}`, { method: 'POST', timeoutMs: 3000 });
  if (r?.status !== 200) throw new RemedyError(`the lab backend (${backendUrl(state)}) did not accept ${q}${r ? `: ${r.status} ${r.body.trim()}` : ''}`);
}

export function backendPid(state: LabState): number | null {
  const pid = readPidFile(labPaths(state.topology.dir).backendPid) ?? state.pids.backend ?? null;
  return pid !== null && isAlive(pid) ? pid : null;
}
