// Pure: which hosts a lab has, in which region, on which ports, under which paths. Ports are
// handed out in a fixed order from one contiguous block, so a lab's ports are predictable.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { API_PATH } from './types.js';
import type { LabHost, LabMpHost, LabRouterHost, LabTopology } from './types.js';

export const DEFAULTS = { regions: 2, mpsPerRegion: 2, org: 'myorg', env: 'prod' } as const;
export const MAX_REGIONS = 9;
export const MAX_MPS_PER_REGION = 20;

export interface TopologyShape {
  regions: number;
  mpsPerRegion: number;
  org: string;
  env: string;
}

export function validateShape(shape: TopologyShape): void {
  const intIn = (v: number, lo: number, hi: number) => Number.isInteger(v) && v >= lo && v <= hi;
  if (!intIn(shape.regions, 1, MAX_REGIONS)) throw new UsageError(`--regions must be an integer from 1 to ${MAX_REGIONS} (got ${shape.regions})`);
  if (!intIn(shape.mpsPerRegion, 2, MAX_MPS_PER_REGION)) {
    throw new UsageError(
      `--mps-per-region must be an integer from 2 to ${MAX_MPS_PER_REGION} (got ${shape.mpsPerRegion}): nginx only marks an MP down when another can take its traffic`,
    );
  }
  for (const [what, v] of [['org', shape.org], ['env', shape.env]] as const) {
    if (!/^[a-z][a-z0-9-]{0,30}$/.test(v)) throw new UsageError(`--${what} must be lower-case letters, digits and '-' (got ${JSON.stringify(v)})`);
  }
}

/** How many ports a lab of this shape needs: ssh per host, 3 per MP, 3 per Router, 1 backend. */
export function portCount(shape: Pick<TopologyShape, 'regions' | 'mpsPerRegion'>): number {
  const mps = shape.regions * shape.mpsPerRegion;
  const routers = shape.regions;
  return (mps + routers) + mps * 3 + routers * 3 + 1;
}

/** Default first port for a lab dir: stable per directory, below Linux's ephemeral range. */
export function defaultBasePort(dir: string): number {
  const h = createHash('sha256').update(dir).digest().readUInt32BE(0);
  return 20000 + (h % 120) * 100;
}

/** Inventory group of region i (Ansible group names cannot hold '-'). */
export function regionName(i: number): string {
  return `dc_${i}`;
}

/** Apigee's own name for a region group (dc_1 → dc-1), as /v1/servers/self and inventories show it. */
export function apigeeRegion(group: string): string {
  return group.replace(/_/g, '-');
}

export function buildTopology(dir: string, shape: TopologyShape, basePort: number): LabTopology {
  validateShape(shape);
  let next = basePort;
  const port = () => next++;
  const hosts: LabHost[] = [];
  const regions: string[] = [];
  const uuid = (name: string) => {
    const h = createHash('sha256').update(`${dir}\0${name}`).digest('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  };
  const base = (name: string, region: string) => {
    const root = join(dir, 'hosts', name);
    return { name, region, root, apigeeRoot: join(root, 'opt', 'apigee'), uuid: uuid(name) };
  };
  let mpNumber = 0;
  for (let r = 1; r <= shape.regions; r++) {
    const region = regionName(r);
    regions.push(region);
    const routerBase = base(`router-${r}`, region);
    const router: LabRouterHost = {
      ...routerBase,
      role: 'router',
      sshPort: port(),
      routerPort: port(),
      routerMgmtPort: port(),
      routerHealthPort: port(),
      nginxDir: join(routerBase.root, 'opt', 'nginx'),
      nginxConfDir: join(routerBase.root, 'opt', 'nginx', 'conf.d'),
    };
    hosts.push(router);
    for (let m = 0; m < shape.mpsPerRegion; m++) {
      mpNumber++;
      const mp: LabMpHost = {
        ...base(`mp-${mpNumber}`, region),
        role: 'message-processor',
        sshPort: port(),
        mpPort: port(),
        mpTlsPort: port(),
        mpMgmtPort: port(),
      };
      hosts.push(mp);
    }
  }
  const backendPort = port();
  return { dir, org: shape.org, env: shape.env, regions, hosts, backendPort, basePort };
}

export const isRouter = (h: LabHost): h is LabRouterHost => h.role === 'router';
export const isMp = (h: LabHost): h is LabMpHost => h.role === 'message-processor';

export function routers(t: LabTopology): LabRouterHost[] {
  return t.hosts.filter(isRouter);
}

export function mps(t: LabTopology): LabMpHost[] {
  return t.hosts.filter(isMp);
}

/** Every port the lab listens on (for allocation checks and for `down`'s "nothing left" check). */
export function allPorts(t: LabTopology): number[] {
  const ports: number[] = [t.backendPort];
  for (const h of t.hosts) {
    ports.push(h.sshPort);
    if (isRouter(h)) ports.push(h.routerPort, h.routerMgmtPort, h.routerHealthPort);
    else ports.push(h.mpPort, h.mpTlsPort, h.mpMgmtPort);
  }
  return ports.sort((a, b) => a - b);
}

/** Paths inside a host's install root, exactly as under /opt/apigee on a real node. */
export function apigeePaths(apigeeRoot: string) {
  return {
    apigeeService: join(apigeeRoot, 'apigee-service', 'bin', 'apigee-service'),
    apigeeAll: join(apigeeRoot, 'apigee-service', 'bin', 'apigee-all'),
    customerDir: join(apigeeRoot, 'customer', 'application'),
    mpProperties: join(apigeeRoot, 'customer', 'application', 'message-processor.properties'),
    routerProperties: join(apigeeRoot, 'customer', 'application', 'router.properties'),
    keystore: join(apigeeRoot, 'customer', 'application', 'keystore.jks'),
    /** Routers: the CA bundle nginx verifies the MPs' TLS certificates against (proxy_ssl_trusted_certificate). */
    routerTruststore: join(apigeeRoot, 'customer', 'application', 'router-truststore.pem'),
    mpTokenDefaults: join(apigeeRoot, 'edge-message-processor', 'token', 'default.properties'),
    routerTokenDefaults: join(apigeeRoot, 'edge-router', 'token', 'default.properties'),
    mpPidFile: join(apigeeRoot, 'var', 'run', 'edge-message-processor', 'edge-message-processor.pid'),
    mpLogDir: join(apigeeRoot, 'var', 'log', 'edge-message-processor', 'logs'),
    mpSystemLog: join(apigeeRoot, 'var', 'log', 'edge-message-processor', 'logs', 'system.log'),
    /** Where runbooks write thread and heap dumps (the mp-disk-full scenario fills it). */
    mpDumpDir: join(apigeeRoot, 'var', 'log', 'edge-message-processor', 'dumps'),
    routerPidFile: join(apigeeRoot, 'var', 'run', 'edge-router', 'edge-router.pid'),
    routerLogDir: join(apigeeRoot, 'var', 'log', 'edge-router', 'nginx'),
    hostEnv: join(apigeeRoot, 'etc', 'lab-host.env'),
  };
}

/** `<org>~<env>.<port>_access_log` and `_error_log`, as the Router names them. */
export function routerLogFiles(t: Pick<LabTopology, 'org' | 'env'>, r: LabRouterHost): { access: string; error: string } {
  const base = join(apigeePaths(r.apigeeRoot).routerLogDir, `${t.org}~${t.env}.${r.routerPort}`);
  return { access: `${base}_access_log`, error: `${base}_error_log` };
}

/** Lab-wide files (not inside any host). */
export function labPaths(dir: string) {
  return {
    state: join(dir, 'lab.json'),
    inventory: join(dir, 'inventory.yaml'),
    knownHosts: join(dir, 'known_hosts'),
    sshConfig: join(dir, 'ssh_config'),
    sshDir: join(dir, 'ssh'),
    privateKey: join(dir, 'ssh', 'id_ed25519'),
    authorizedKeys: join(dir, 'ssh', 'authorized_keys'),
    registry: join(dir, 'registry'),
    javaDir: join(dir, 'java'),
    classes: join(dir, 'java', 'classes'),
    keystore: join(dir, 'java', 'keystore.jks'),
    /** The lab CA that signs the MPs' certificate, and an unrelated CA (see java.ts). */
    mpCa: join(dir, 'java', 'mp-ca.pem'),
    otherCa: join(dir, 'java', 'other-ca.pem'),
    backendDir: join(dir, 'backend'),
    backendPid: join(dir, 'backend', 'backend.pid'),
    backendLog: join(dir, 'backend', 'backend.log'),
  };
}

/** Routers: the MP CA certificate as an operator would have distributed it (inventory var mp_ca_cert). */
export function mpCaCertPath(host: LabHost): string {
  return join(host.root, 'etc', 'pki', 'apigee', 'mp-ca.pem');
}

export function sshdPaths(host: LabHost) {
  return {
    config: join(host.root, 'etc', 'ssh', 'sshd_config'),
    hostKey: join(host.root, 'etc', 'ssh', 'ssh_host_ed25519_key'),
    pidFile: join(host.root, 'run', 'sshd.pid'),
    log: join(host.root, 'var', 'log', 'sshd.log'),
    /** The host's own /tmp (TMPDIR of its SSH sessions). */
    tmpDir: join(host.root, 'tmp'),
  };
}

export function routerUrl(r: LabRouterHost): string {
  return `http://127.0.0.1:${r.routerPort}${API_PATH}`;
}
