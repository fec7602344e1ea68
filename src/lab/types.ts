// The lab's model: topology (which hosts, which ports, which paths), the state file kept in the
// lab directory, and what the programmatic API returns. Declared once, used everywhere in lab/.

export const SCENARIOS = [
  'mps-down',
  'mps-busy',
  'router-mp-tls',
  'stale-router-config',
  'backend-error',
  'router-truststore',
  'router-down',
  'mp-slow',
  'mp-disk-full',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** Scenarios that act on Routers (`--hosts` names Routers or regions); the others act on MPs. */
export const ROUTER_SCENARIOS: readonly Scenario[] = ['router-truststore', 'router-down'];

export const SCENARIO_HELP: Record<Scenario, string> = {
  'mps-down': 'kill the MP JVMs: Routers log connect() failed (111) then no live upstreams; clients get 502',
  'mps-busy': 'MP threads spin and requests stall: Routers time out (504, then 502 no live upstreams); the JVMs stay up for jstack/jmap',
  'router-mp-tls': 'MPs get local.http.ssl=true on the plain port and Routers are regenerated for https: peer closed connection in SSL handshake, 502',
  'stale-router-config': 'MPs move correctly to TLS on the 8443-role port but Routers keep their old conf.d: 502 until conf.d is cleared and the Router restarted',
  'backend-error': 'the backend answers 502: access log shows fault source target, code messaging.adaptors.http.flow.ErrorResponseCode',
  'router-truststore':
    "MPs move correctly to TLS with a certificate from the lab CA, but the Routers' truststore lacks that CA: upstream SSL certificate verify error (unable to get local issuer certificate), 502",
  'router-down': 'nginx stopped on the Routers (apigee-service edge-router stop): connections to the virtual host are refused',
  'mp-slow': "MPs hold every API request longer than the Router's read timeout (management API stays healthy): upstream timed out, 504 then 502",
  'mp-disk-full': "a 2 MB filesystem is mounted over the MPs' dump directory: room for thread dumps, none for a heap dump (needs root)",
};

export type HostRole = 'router' | 'message-processor';
export type LabBecomeMethod = 'sudo' | 'none';

export interface LabUpOptions {
  /** Lab directory; default `.remedy-lab` under the current directory. */
  dir?: string | undefined;
  /** Number of regions (dc_1 … dc_N); default 2. */
  regions?: number | undefined;
  /** Message Processors per region; default 2 (nginx needs two to mark one down). */
  mpsPerRegion?: number | undefined;
  org?: string | undefined;
  env?: string | undefined;
  /** First port of the lab's block; default derived from the directory, then the next free block. */
  basePort?: number | undefined;
  /** Progress lines (the CLI prints them; the API is silent by default). */
  log?: ((line: string) => void) | undefined;
}

interface LabHostBase {
  name: string;
  region: string;
  /** The host's own filesystem root inside the lab dir (plays `/`). */
  root: string;
  /** `<root>/opt/apigee`: the relocatable /opt/apigee. */
  apigeeRoot: string;
  sshPort: number;
  /** Stable server UUID reported by /v1/servers/self. */
  uuid: string;
}

export interface LabMpHost extends LabHostBase {
  role: 'message-processor';
  /** Router traffic, plain text (the 8998 role). */
  mpPort: number;
  /** Router traffic with TLS (the 8443 role). */
  mpTlsPort: number;
  /** Management API (the 8082 role). */
  mpMgmtPort: number;
}

export interface LabRouterHost extends LabHostBase {
  role: 'router';
  /** Virtual host `default` (the 9001 role). */
  routerPort: number;
  /** Management API (the 8081 role). */
  routerMgmtPort: number;
  /** Load-balancer health check (the 15999 role). */
  routerHealthPort: number;
  /** `<root>/opt/nginx`: nginx prefix (conf/nginx.conf, html/, tmp/). */
  nginxDir: string;
  /** `<root>/opt/nginx/conf.d`: the generated virtual hosts and upstreams. */
  nginxConfDir: string;
}

export type LabHost = LabMpHost | LabRouterHost;

export interface LabTopology {
  dir: string;
  org: string;
  env: string;
  regions: string[];
  hosts: LabHost[];
  backendPort: number;
  basePort: number;
}

export interface LabUsers {
  /** SSH login user (`remedy-lab` when the lab runs as root, else the current user). */
  login: string;
  /** Service user the MPs and nginx run as (`apigee` when root, else the current user). */
  service: string;
  become: LabBecomeMethod;
}

export interface AppliedFault {
  scenario: Scenario;
  /** The hosts acted on: MPs, or Routers for the Router scenarios. */
  hosts: string[];
  at: string;
}

/** `<dir>/lab.json`: everything `down`, `break`, `heal` and `status` need. */
export interface LabState {
  version: 1;
  topology: LabTopology;
  users: LabUsers;
  javaBin: string;
  /** Pids the lab started directly (sshd per host, the backend). Service pids live in pid files. */
  pids: { sshd: Record<string, number>; backend?: number | undefined };
  /** /etc/sudoers.d file written for the login user, removed by `down`. */
  sudoersFile?: string | undefined;
  faults: AppliedFault[];
  /** Filesystems mounted by mp-disk-full (unmounted by heal and down). */
  mounts?: string[] | undefined;
  startedAt: string;
  running: boolean;
}

export interface LabRouterInfo {
  name: string;
  region: string;
  /** An API URL through this Router that answers 200 when the lab is healthy. */
  url: string;
}

export interface LabHostInfo {
  name: string;
  role: HostRole;
  region: string;
  sshPort: number;
  apigeeRoot: string;
  ports: Record<string, number>;
}

export interface LabInfo {
  dir: string;
  inventory: string;
  knownHosts: string;
  sshConfig: string;
  privateKeyFile: string;
  loginUser: string;
  serviceUser: string;
  becomeMethod: LabBecomeMethod;
  backendUrl: string;
  routers: LabRouterInfo[];
  hosts: LabHostInfo[];
  /** Time `labUp` took to reach healthy (only set by labUp). */
  elapsedMs?: number | undefined;
}

export interface LabHostStatus extends LabHostInfo {
  sshd: 'up' | 'down';
  service: 'running' | 'stopped';
  pid: number | null;
  /** MPs: management `up` answered true within a second. Routers: the API URL answered 200. */
  ready: boolean;
}

export interface LabStatus {
  dir: string;
  running: boolean;
  inventory: string;
  knownHosts: string;
  routers: (LabRouterInfo & { status: number | null })[];
  hosts: LabHostStatus[];
  backend: { url: string; running: boolean };
  /** Faults applied with `lab break` since the last heal (a runbook may have fixed them since). */
  faults: AppliedFault[];
}

export const API_PATH = '/v1/hello';
