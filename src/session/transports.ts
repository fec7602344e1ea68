// The SSH (and local) transports a session opens, as its options say.
import type { NoticeRelay } from '../engine/emitter.js';
import type { Inventory } from '../inventory/types.js';
import { defaultKnownHostsFile, TransportPool } from '../transport/index.js';
import type { SessionOptions } from './options.js';

/** SSH (and local) transports as the session options say; host-key notices go to the run's events. */
export function createTransportPool(
  session: Pick<SessionOptions, 'knownHosts' | 'acceptNewHostKeys' | 'serverAliveInterval' | 'serverAliveCountMax'>,
  inventory: Inventory,
  notices: NoticeRelay,
): TransportPool {
  return new TransportPool({
    keepalive: {
      intervalMs: session.serverAliveInterval !== undefined ? session.serverAliveInterval * 1000 : undefined,
      countMax: session.serverAliveCountMax,
    },
    knownHostsFiles: session.knownHosts !== undefined ? [session.knownHosts, defaultKnownHostsFile()] : undefined,
    acceptNewHostKeys: session.acceptNewHostKeys,
    passphrase: process.env.REMEDY_SSH_PASSPHRASE,
    inventory,
    onNotice: (message) => notices.push(message),
  });
}
