// `lab status`: what is running and answering, checked live (pids and HTTP), not remembered.
import { isAlive, readPidFile } from './exec.js';
import { backendPid, mpReady, routerStatus, servicePid } from './services.js';
import { labInfo, readState, resolveLabDir } from './state.js';
import { sshdPaths } from './topology.js';
import type { LabHostStatus, LabStatus } from './types.js';

export async function labStatus(dir?: string): Promise<LabStatus> {
  const state = readState(resolveLabDir(dir));
  const info = labInfo(state);
  const t = state.topology;
  const hosts: LabHostStatus[] = await Promise.all(
    t.hosts.map(async (h, i): Promise<LabHostStatus> => {
      const sshdPid = state.pids.sshd[h.name] ?? readPidFile(sshdPaths(h).pidFile);
      const pid = servicePid(h);
      const ready = pid === null ? false : h.role === 'router' ? (await routerStatus(h, 5000)) === 200 : await mpReady(h, 1000);
      return { ...info.hosts[i]!, sshd: sshdPid !== null && isAlive(sshdPid) ? 'up' : 'down', service: pid === null ? 'stopped' : 'running', pid, ready };
    }),
  );
  const routerStatuses = await Promise.all(
    t.hosts.filter((h) => h.role === 'router').map(async (r) => (servicePid(r) === null ? null : routerStatus(r, 5000))),
  );
  return {
    dir: t.dir,
    running: state.running,
    inventory: info.inventory,
    knownHosts: info.knownHosts,
    routers: info.routers.map((r, i) => ({ ...r, status: routerStatuses[i] ?? null })),
    hosts,
    backend: { url: info.backendUrl, running: backendPid(state) !== null },
    faults: state.faults,
  };
}
