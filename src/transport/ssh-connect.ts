// Opening one authenticated, host-verified ssh2 connection to one endpoint, directly or through
// a tunnel on an already open jump connection. Every failure becomes an UnreachableError that
// says which host, which address, and why.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
// ssh2 is CommonJS: Node's ESM loader only sees its default export (vitest hides this).
import ssh2 from 'ssh2';
import type { AgentAuthMethod, ClientChannel, ConnectConfig, KeyboardInteractiveAuthMethod, PasswordAuthMethod, PublicKeyAuthMethod } from 'ssh2';
import { UnreachableError } from '../errors.js';
import { describeVerdict, isAccepted, type HostKeyVerdict, type KnownHostsVerifier } from './known-hosts.js';
import type { SshEndpoint } from './ssh-config.js';

const { Client, utils } = ssh2;
type Client = InstanceType<typeof ssh2.Client>;

export interface SshConnectOptions {
  /** The known_hosts verifier for an endpoint (its own file plus the global ones). */
  verifierFor: (endpoint: SshEndpoint) => KnownHostsVerifier;
  /** Passphrase for encrypted keys: a value (REMEDY_SSH_PASSPHRASE) or a prompt. */
  passphrase?: string | ((keyFile: string) => Promise<string | undefined>) | undefined;
  /** ssh-agent socket; default SSH_AUTH_SOCK; false disables the agent. */
  agent?: string | false | undefined;
  /** TCP connect + handshake + auth deadline (ssh2 readyTimeout). Default 20 s. */
  connectTimeoutMs?: number | undefined;
  /**
   * Keepalive probe interval and unanswered probes tolerated, for every connection (the
   * --server-alive-* options): over the endpoint's own (inventory ssh args, then ssh_config),
   * over the defaults (15 s × 3). An interval of 0 turns keepalives off.
   */
  keepaliveIntervalMs?: number | undefined;
  keepaliveCountMax?: number | undefined;
  /** Told about keys recorded under accept-new, for the console and the journal. */
  onNotice?: ((message: string) => void) | undefined;
}

export const DEFAULT_KEEPALIVE = { intervalMs: 15_000, countMax: 3 } as const;
/** How long a closing connection may take before its socket is destroyed. */
export const CLOSE_GRACE_MS = 2000;

/** The keepalive an endpoint's connection uses: options, then the endpoint's, then the defaults. */
export function keepaliveFor(
  endpoint: SshEndpoint,
  options: Pick<SshConnectOptions, 'keepaliveIntervalMs' | 'keepaliveCountMax'>,
): { intervalMs: number; countMax: number } {
  const fromEndpoint = endpoint.serverAliveInterval !== undefined ? endpoint.serverAliveInterval * 1000 : undefined;
  return {
    intervalMs: options.keepaliveIntervalMs ?? fromEndpoint ?? DEFAULT_KEEPALIVE.intervalMs,
    countMax: options.keepaliveCountMax ?? endpoint.serverAliveCountMax ?? DEFAULT_KEEPALIVE.countMax,
  };
}

/**
 * Closes a connection within a bounded time: a polite disconnect first, and when the peer does
 * not finish the close within `graceMs` (a host that stopped answering leaves the socket in
 * FIN-WAIT-2 and the process alive), the socket is destroyed. ssh2's own destroy() is a no-op
 * once end() made the socket unwritable, hence the socket itself.
 */
export async function closeClient(client: Client, graceMs: number): Promise<void> {
  const sock = (client as unknown as { _sock?: { destroyed?: boolean; destroy(): void } })._sock;
  if (!sock || sock.destroyed) return;
  const closed = new Promise<boolean>((r) => client.once('close', () => r(true)));
  const within = (ms: number) => Promise.race([closed, new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
  client.end();
  if (await within(graceMs)) return;
  sock.destroy();
  await within(1000);
}

/** Host key algorithms ssh2 offers by default, strongest first. */
const DEFAULT_HOST_KEY_ALGOS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
] as const;
type HostKeyAlgo = (typeof DEFAULT_HOST_KEY_ALGOS)[number];

export function describeEndpoint(ep: SshEndpoint): string {
  return `${ep.user}@${ep.address}:${ep.port}`;
}

/**
 * Connects to `endpoint` (through `via`, a jump connection, when given). `reportAs` is the
 * inventory host the error is about; `hop` names the jump host that failed, if it is one.
 */
export async function openSshClient(
  endpoint: SshEndpoint,
  options: SshConnectOptions,
  reportAs: string,
  via?: { client: Client; label: string } | undefined,
  isJump = false,
): Promise<Client> {
  const where = `${isJump ? `jump host ${endpoint.label} ` : ''}${describeEndpoint(endpoint)}${via ? ` via ${via.label}` : ''}`;
  const unreachable = (reason: string) => new UnreachableError(reportAs, `cannot connect to ${where}: ${reason}`);

  const auth = await loadAuth(endpoint, options);
  if (auth.methods.length === 0) {
    throw unreachable(`no usable credentials (${auth.problems.join('; ') || 'no key file and no ssh-agent'})`);
  }

  let sock: ClientChannel | undefined;
  if (via) {
    sock = await new Promise<ClientChannel>((resolve, reject) => {
      via.client.forwardOut('127.0.0.1', 0, endpoint.address, endpoint.port, (err, stream) => {
        if (err) reject(unreachable(`the jump host could not open a tunnel (${err.message})`));
        else resolve(stream);
      });
    });
  }

  const verifier = options.verifierFor(endpoint);
  let verdict: HostKeyVerdict | undefined;
  const known = verifier.knownKeyTypes(endpoint.address, endpoint.port);
  const client = new Client();
  const keepalive = keepaliveFor(endpoint, options);
  const config: ConnectConfig = {
    host: endpoint.address,
    port: endpoint.port,
    username: endpoint.user,
    readyTimeout: options.connectTimeoutMs ?? 20_000,
    keepaliveInterval: keepalive.intervalMs,
    keepaliveCountMax: keepalive.countMax,
    authHandler: auth.methods,
    // Raw key blob (no hostHash): compared byte for byte with the known_hosts entry.
    hostVerifier: (key: Buffer) => {
      verdict = verifier.verify(endpoint.address, endpoint.port, key);
      return isAccepted(verdict);
    },
    ...(sock ? { sock } : {}),
    // Ask first for the key types known_hosts has for this host, so a host with several keys
    // presents one we can check instead of looking "changed".
    ...(known.length ? { algorithms: { serverHostKey: preferAlgos(known) } } : {}),
  };

  return new Promise<Client>((resolve, reject) => {
    let ready = false;
    client.on('connect', () => {
      // Nagle + delayed ACK costs ~40 ms per exec on a reused connection (perf-baselines.md).
      client.setNoDelay(true);
    });
    client.once('ready', () => {
      ready = true;
      if (verdict?.status === 'accepted-new') options.onNotice?.(`${reportAs}: ${describeVerdict(verdict, verifier.files)}`);
      resolve(client);
    });
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      if (ready) return; // later errors are the transport's business (it listens too)
      reject(unreachable(connectFailureReason(err, verdict, verifier.files, endpoint, auth.tried, auth.problems, config.readyTimeout ?? 0)));
      client.end();
    });
    client.once('close', () => {
      if (!ready) reject(unreachable('the connection closed during the handshake'));
    });
    try {
      client.connect(config);
    } catch (err) {
      reject(unreachable((err as Error).message));
    }
  });
}

function connectFailureReason(
  err: Error & { level?: string; code?: string },
  verdict: HostKeyVerdict | undefined,
  files: readonly string[],
  ep: SshEndpoint,
  tried: string[],
  problems: string[],
  readyTimeoutMs: number,
): string {
  if (verdict && !isAccepted(verdict)) return describeVerdict(verdict, files);
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused (is sshd running and listening on that port?)';
    case 'ETIMEDOUT':
      return 'TCP connect timed out';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to host (${err.code})`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve host name ${ep.address} (${err.code})`;
    case 'ECONNRESET':
      return 'connection reset by peer';
  }
  if (err.level === 'client-timeout') return `no SSH handshake within ${readyTimeoutMs / 1000} s (${err.message})`;
  if (err.level === 'client-authentication') {
    return `authentication failed for user ${ep.user} (tried ${tried.join(', ') || 'nothing'}${problems.length ? `; ${problems.join('; ')}` : ''})`;
  }
  return `${err.message}${err.code ? ` (${err.code})` : ''}`;
}

function preferAlgos(knownTypes: string[]): HostKeyAlgo[] {
  const first: HostKeyAlgo[] = [];
  for (const t of knownTypes) {
    const algos: readonly string[] = t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t];
    for (const a of algos) {
      const known = DEFAULT_HOST_KEY_ALGOS.find((d) => d === a);
      if (known && !first.includes(known)) first.push(known);
    }
  }
  return [...first, ...DEFAULT_HOST_KEY_ALGOS.filter((a) => !first.includes(a))];
}

type AuthAttempt = PublicKeyAuthMethod | AgentAuthMethod | PasswordAuthMethod | KeyboardInteractiveAuthMethod;

interface LoadedAuth {
  methods: AuthAttempt[];
  tried: string[];
  problems: string[];
}

/**
 * Keys from the endpoint's identity files (or OpenSSH's defaults), then the agent, then the
 * inventory's password (ansible_password): as `password`, and as `keyboard-interactive` for
 * servers that ask through PAM. The password itself is never in a message.
 */
/** Key files whose exact bytes parsed as an unencrypted private key. */
const usableKeys = new Map<string, Buffer>();

async function loadAuth(ep: SshEndpoint, options: SshConnectOptions): Promise<LoadedAuth> {
  const methods: AuthAttempt[] = [];
  const tried: string[] = [];
  const problems: string[] = [];
  const explicit = ep.identityFiles.length > 0;
  const files = explicit ? ep.identityFiles : ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(homedir(), '.ssh', f)).filter((f) => existsSync(f));
  for (const file of files) {
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch (err) {
      problems.push(`cannot read key ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      continue;
    }
    let passphrase: string | undefined;
    // The same unencrypted key for every host of a fleet: parsed (checked) once per process.
    if (usableKeys.get(file)?.equals(data)) {
      methods.push({ type: 'publickey' as const, username: ep.user, key: data });
      tried.push(`key ${file}`);
      continue;
    }
    let parsed = utils.parseKey(data);
    if (parsed instanceof Error && /passphrase/i.test(parsed.message)) {
      passphrase = typeof options.passphrase === 'function' ? await options.passphrase(file) : options.passphrase;
      if (passphrase === undefined) {
        problems.push(`key ${file} is encrypted and no passphrase was given (set REMEDY_SSH_PASSPHRASE)`);
        continue;
      }
      parsed = utils.parseKey(data, passphrase);
    }
    if (parsed instanceof Error) {
      problems.push(`cannot use key ${file}: ${parsed.message}`);
      continue;
    }
    if (passphrase === undefined) usableKeys.set(file, data);
    methods.push({ type: 'publickey' as const, username: ep.user, key: data, ...(passphrase !== undefined ? { passphrase } : {}) });
    tried.push(`key ${file}`);
  }
  const agent = options.agent === false ? undefined : (options.agent ?? process.env.SSH_AUTH_SOCK);
  if (agent) {
    methods.push({ type: 'agent' as const, username: ep.user, agent });
    tried.push('ssh-agent');
  }
  const password = ep.password;
  if (password !== undefined && password !== '') {
    methods.push({ type: 'password' as const, username: ep.user, password });
    methods.push({
      type: 'keyboard-interactive' as const,
      username: ep.user,
      // Hidden prompts get the password ("Password: "); echoed ones (a username, a code) nothing.
      prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map((p) => (p.echo ? '' : password))),
    });
    tried.push('password (ansible_password)');
  }
  return { methods, tried, problems };
}
