// Jump (ProxyJump) connections, shared: a hundred hosts behind one bastion use one bastion
// connection, each target tunnelled through its own forwardOut channel (direct-tcpip channels
// do not count against sshd's MaxSessions). Each hop's host key is verified like any host's.
import type { Client } from 'ssh2';
import { UnreachableError } from '../errors.js';
import type { SshEndpoint } from './ssh-config.js';
import { CLOSE_GRACE_MS, closeClient, describeEndpoint, openSshClient, type SshConnectOptions } from './ssh-connect.js';

export class JumpConnections {
  readonly #options: SshConnectOptions;
  readonly #clients = new Map<string, Promise<Client>>();

  constructor(options: SshConnectOptions) {
    this.#options = options;
  }

  /** The connection to the innermost jump host of `jumps` (outermost first), opened as needed. */
  async get(jumps: SshEndpoint[], reportAs: string): Promise<Client> {
    if (jumps.length === 0) throw new Error('JumpConnections.get needs at least one jump host');
    let client: Client | undefined;
    let label = '';
    for (let i = 0; i < jumps.length; i++) {
      const ep = jumps[i]!;
      const key = jumps
        .slice(0, i + 1)
        .map(describeEndpoint)
        .join(' > ');
      let pending = this.#clients.get(key);
      if (!pending) {
        const via = client ? { client, label } : undefined;
        pending = openSshClient(ep, this.#options, reportAs, via, true);
        this.#clients.set(key, pending);
        pending.then(
          (c) => {
            // Errors after ready surface through the tunnels' own connections; forget dead hops.
            c.on('error', () => undefined);
            c.once('close', () => {
              if (this.#clients.get(key) === pending) this.#clients.delete(key);
            });
          },
          () => {
            if (this.#clients.get(key) === pending) this.#clients.delete(key);
          },
        );
      }
      try {
        client = await pending;
      } catch (err) {
        // A shared attempt failed for another host first: report it under this one.
        if (err instanceof UnreachableError && err.host !== reportAs) {
          throw new UnreachableError(reportAs, err.message.slice(err.host.length + 2));
        }
        throw err;
      }
      label = `${label ? `${label} > ` : ''}${ep.label}`;
    }
    return client!;
  }

  /** Closes every jump connection, innermost first. */
  async closeAll(): Promise<void> {
    const all = [...this.#clients.values()].reverse();
    this.#clients.clear();
    for (const p of all) {
      const c = await p.catch(() => undefined);
      if (c) await closeClient(c, CLOSE_GRACE_MS);
    }
  }
}
