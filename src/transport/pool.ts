// One transport per inventory host for the whole run, created on first use: SSH for ssh hosts,
// local for ansible_connection=local. Settings shared by every connection live here.
import type { Host, Inventory } from '../inventory/types.js';
import { JumpConnections } from './jump-hosts.js';
import { defaultKnownHostsFile, KnownHostsVerifier } from './known-hosts.js';
import { LocalTransport } from './local.js';
import { defaultSshConfigFile, loadSshConfig, resolveSshRoute, type SshConfigLookup, type SshEndpoint, type SshRoute } from './ssh-config.js';
import type { SshConnectOptions } from './ssh-connect.js';
import { SshTransport } from './ssh.js';
import type { Transport } from './types.js';

export interface TransportPoolOptions {
  /**
   * known_hosts files consulted for every host (default: ~/.ssh/known_hosts). Keys accepted
   * under acceptNewHostKeys are recorded in the first, unless the host names its own file
   * (remedy_known_hosts), which is then consulted first and recorded into.
   */
  knownHostsFiles?: string[] | undefined;
  /** --accept-new-host-keys: accept and record keys of hosts with no entry (never changed keys). */
  acceptNewHostKeys?: boolean | undefined;
  /** Record accepted keys hashed (default false: plain `[host]:port` lines). */
  hashNewHostKeys?: boolean | undefined;
  /** Key passphrase: REMEDY_SSH_PASSPHRASE in unattended runs, a prompt in guided ones. */
  passphrase?: string | ((keyFile: string) => Promise<string | undefined>) | undefined;
  /** ssh-agent socket (default SSH_AUTH_SOCK); false disables it. */
  agent?: string | false | undefined;
  /** Session channels per connection (default 8; OpenSSH MaxSessions is 10). */
  channelLimit?: number | undefined;
  /** Connect + handshake + authentication deadline per hop (default 20 s). */
  connectTimeoutMs?: number | undefined;
  /**
   * Dead-peer detection for every connection: probe every intervalMs, give up after countMax
   * unanswered. Unset parts come from the host (inventory ssh args, ssh_config), then 15 s × 3.
   */
  keepalive?: { intervalMs?: number | undefined; countMax?: number | undefined } | undefined;
  /** TERM → KILL grace for timed-out commands (default 2 s). */
  killGraceMs?: number | undefined;
  /** ssh_config merged under inventory values (default ~/.ssh/config; false: none). */
  sshConfigFile?: string | false | undefined;
  /** The inventory, so a ProxyJump entry can name an inventory host. */
  inventory?: Inventory | undefined;
  /** Notices such as "new host key recorded" for the console and journal. */
  onNotice?: ((message: string) => void) | undefined;
}

export class TransportPool {
  readonly #options: TransportPoolOptions;
  readonly #transports = new Map<string, Transport>();
  readonly #verifiers = new Map<string, KnownHostsVerifier>();
  readonly #connect: SshConnectOptions;
  readonly #jumps: JumpConnections;
  #sshConfig: SshConfigLookup | null | undefined;

  constructor(options: TransportPoolOptions = {}) {
    this.#options = options;
    this.#connect = {
      verifierFor: (ep) => this.#verifierFor(ep),
      passphrase: options.passphrase,
      agent: options.agent,
      connectTimeoutMs: options.connectTimeoutMs,
      keepaliveIntervalMs: options.keepalive?.intervalMs,
      keepaliveCountMax: options.keepalive?.countMax,
      onNotice: options.onNotice,
    };
    this.#jumps = new JumpConnections(this.#connect);
  }

  /** The host's transport, created on first use (no connection is opened here). */
  get(host: Host): Transport {
    let t = this.#transports.get(host.name);
    if (!t) {
      t =
        host.connection.type === 'local'
          ? new LocalTransport(host.name, { become: host.become, killGraceMs: this.#options.killGraceMs })
          : new SshTransport(this.route(host), {
              ...this.#connect,
              channelLimit: this.#options.channelLimit,
              killGraceMs: this.#options.killGraceMs,
              become: host.become,
              jumps: this.#jumps,
            });
      this.#transports.set(host.name, t);
    }
    return t;
  }

  /** Where an ssh host's connection goes: inventory values over ssh_config, jump hosts resolved. */
  route(host: Host): SshRoute {
    const inventory = this.#options.inventory;
    return resolveSshRoute(host.name, host.connection, {
      config: this.#config(),
      inventoryConnection: (name) => inventory?.hosts.get(name)?.connection,
    });
  }

  /** Closes every connection (jump hosts last). */
  async closeAll(): Promise<void> {
    const all = [...this.#transports.values()];
    this.#transports.clear();
    await Promise.allSettled(all.map((t) => t.close()));
    await this.#jumps.closeAll();
  }

  #config(): SshConfigLookup | null {
    if (this.#sshConfig === undefined) {
      const file = this.#options.sshConfigFile;
      this.#sshConfig = file === false ? null : loadSshConfig(file ?? defaultSshConfigFile());
    }
    return this.#sshConfig;
  }

  #verifierFor(ep: SshEndpoint): KnownHostsVerifier {
    const global = this.#options.knownHostsFiles ?? [defaultKnownHostsFile()];
    const files = [...new Set([...(ep.knownHostsFile ? [ep.knownHostsFile] : []), ...global])];
    const recordFile = ep.knownHostsFile ?? global[0] ?? defaultKnownHostsFile();
    const key = JSON.stringify([files, recordFile]);
    let v = this.#verifiers.get(key);
    if (!v) {
      v = new KnownHostsVerifier({
        files,
        recordFile,
        acceptNew: this.#options.acceptNewHostKeys,
        hashNew: this.#options.hashNewHostKeys,
      });
      this.#verifiers.set(key, v);
    }
    return v;
  }
}
