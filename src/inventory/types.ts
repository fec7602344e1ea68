// The inventory model every other part reads. Readers (Ansible YAML and INI) produce it;
// nothing downstream knows which format it came from.
import type { Diagnostic, SourcePos } from '../errors.js';

export type VarValue = string | number | boolean | null | VarValue[] | { [k: string]: VarValue };
export type Vars = Record<string, VarValue>;

/** How to reach a host, resolved from ansible_* vars and ~/.ssh/config. */
export interface Connection {
  /** `ssh` (default) or `local` (ansible_connection=local). */
  type: 'ssh' | 'local';
  /** ansible_host, else ssh_config HostName, else the inventory name. */
  address: string;
  port: number;
  user?: string | undefined;
  privateKeyFile?: string | undefined;
  /** Jump hosts, outermost first ("user@host:port" or inventory host names). */
  proxyJump?: string[] | undefined;
  /** Extra known_hosts file (remedy_known_hosts var). */
  knownHostsFile?: string | undefined;
  /**
   * ansible_password (alias ansible_ssh_pass, ansible_ssh_password): SSH password authentication,
   * tried after keys and the agent. Secret: masked everywhere.
   */
  password?: string | undefined;
  /**
   * Keepalive from ansible_ssh_common_args / ansible_ssh_extra_args (`-o ServerAliveInterval=S`,
   * `-o ServerAliveCountMax=N`), as OpenSSH reads them: seconds (0 = off) and unanswered probes.
   */
  serverAliveInterval?: number | undefined;
  serverAliveCountMax?: number | undefined;
  /**
   * Which settings the inventory set explicitly (ansible_host / ansible_port), as opposed to the
   * defaults (inventory name, port 22). ssh_config may only fill in what the inventory left unset,
   * as with Ansible over OpenSSH, so the transport needs to know the difference.
   */
  explicit?: { address: boolean; port: boolean } | undefined;
}

export type BecomeMethod = 'sudo' | 'runuser' | 'none';

export interface BecomeSettings {
  /** ansible_become: become for every step, not only steps that ask. */
  always: boolean;
  method: BecomeMethod;
  /** Default user when a step says `become: true` (ansible_become_user, default root). */
  user: string;
  /** ansible_become_password; secret. */
  password?: string | undefined;
}

export interface Host {
  name: string;
  /** Every group the host belongs to, directly or through parents, plus `all`; sorted. */
  groups: string[];
  /** Merged vars with Ansible precedence: all < parent group < child group < host. */
  vars: Vars;
  connection: Connection;
  become: BecomeSettings;
  /** Ansible's implicit localhost, added when a pattern asks for it (see localhost.ts). */
  implicit?: boolean | undefined;
  /**
   * Connection vars remedy cannot honour for this host (winrm, a lookup in ansible_user…): not an
   * error until a step targets the host (see refuseUnusableHosts).
   */
  unusable?: { key: string; message: string; at: SourcePos }[] | undefined;
}

export interface Group {
  name: string;
  /** Direct children group names. */
  children: string[];
  /** Hosts listed directly in the group. */
  hosts: string[];
  vars: Vars;
}

export interface Inventory {
  /** The file it was read from (for messages). */
  source: string;
  /** Hosts in inventory order (the order patterns return them in). */
  hosts: Map<string, Host>;
  groups: Map<string, Group>;
  /** What the implicit localhost sees: the vars of `all`, and host_vars/ of localhost names. */
  implicitVars?: { all: Vars; hosts: Record<string, Vars> } | undefined;
  /** Non-fatal findings (unknown YAML tags, group_vars files for no group, ignored ssh args). */
  warnings?: Diagnostic[] | undefined;
}
