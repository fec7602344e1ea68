// The transport layer's public surface: the pool the engine uses, the two transports, and
// the pieces other layers may need (host key checking, ssh_config resolution, errors).
export type { ExecOptions, ExecResult, FetchOptions, FetchResult, Transport } from './types.js';
export { TransportPool, type TransportPoolOptions } from './pool.js';
export { SshTransport, DEFAULT_CHANNEL_LIMIT, DEFAULT_KILL_GRACE_MS, type SshTransportOptions } from './ssh.js';
export { LocalTransport, type LocalTransportOptions } from './local.js';
export { FetchError } from './fetch.js';
export type { SshConnectOptions } from './ssh-connect.js';
export { KnownHostsVerifier, defaultKnownHostsFile, describeVerdict, isAccepted, type HostKeyVerdict, type KnownHostsOptions } from './known-hosts.js';
export { parseKnownHosts, knownHostsName, sha256Fingerprint, formatKnownHostsLine, hostFieldMatches, type KnownHostsEntry } from './known-hosts-file.js';
export {
  loadSshConfig,
  parseSshConfig,
  resolveSshRoute,
  parseJumpSpec,
  splitProxyJump,
  defaultSshConfigFile,
  type SshConfigLookup,
  type SshConfigValues,
  type SshEndpoint,
  type SshRoute,
  type ResolveOptions,
} from './ssh-config.js';
