// Where and as whom to connect: the inventory's Connection merged with ~/.ssh/config. Host
// blocks are matched against the address (Ansible passes ansible_host to ssh as the alias), and
// ssh_config only fills what the inventory left unset (Connection.explicit tells which).
import { readdirSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import SSHConfig from 'ssh-config';
import type { Connection } from '../inventory/types.js';
import { matchPattern } from './known-hosts-file.js';

/** One SSH server to authenticate to: a target or a jump host. */
export interface SshEndpoint {
  /** Name for messages: the inventory host name or the jump spec as written. */
  label: string;
  address: string;
  port: number;
  user: string;
  /** Private key files to try, in order (inventory key first, then IdentityFile lines). */
  identityFiles: string[];
  /** Extra known_hosts file consulted (and recorded into) for this endpoint. */
  knownHostsFile?: string | undefined;
  /** ansible_password: tried after keys and the agent (password, then keyboard-interactive). */
  password?: string | undefined;
  /** ServerAliveInterval (seconds, 0 = off) and ServerAliveCountMax: inventory args, else ssh_config. */
  serverAliveInterval?: number | undefined;
  serverAliveCountMax?: number | undefined;
}

/** How to reach a target: through `jumps` (outermost first), then the target itself. */
export interface SshRoute {
  target: SshEndpoint;
  jumps: SshEndpoint[];
}

/** The parts of ssh_config remedy uses, already computed for one alias. */
export interface SshConfigValues {
  hostName?: string | undefined;
  user?: string | undefined;
  port?: number | undefined;
  identityFiles: string[];
  proxyJump?: string | undefined;
  serverAliveInterval?: number | undefined;
  serverAliveCountMax?: number | undefined;
}

export interface SshConfigLookup {
  lookup(alias: string): SshConfigValues;
}

export function defaultSshConfigFile(): string {
  return join(homedir(), '.ssh', 'config');
}

/** Reads an ssh_config file (and its Include files); a missing file gives an empty config. */
export function loadSshConfig(file: string = defaultSshConfigFile()): SshConfigLookup {
  let text = '';
  try {
    text = expandIncludes(readFileSync(file, 'utf8'), dirname(file), 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read ssh config ${file}: ${(err as Error).message}`);
  }
  return parseSshConfig(text);
}

export function parseSshConfig(text: string): SshConfigLookup {
  const config = SSHConfig.parse(text);
  // One computation per alias: the ssh-config package asks the OS for the local user on every
  // compute, and a fleet's hosts often share an address or a config that has no entries at all.
  const computed = new Map<string, SshConfigValues>();
  return {
    lookup(alias: string): SshConfigValues {
      let values = computed.get(alias);
      if (!values) computed.set(alias, (values = compute(alias)));
      return values;
    },
  };

  function compute(alias: string): SshConfigValues {
    // matchExec false: `Match exec` would run commands from the config text.
    const c: Record<string, string | string[] | undefined> = config.length === 0 ? {} : config.compute(alias, { ignoreCase: true, matchExec: false });
    const one = (k: string): string | undefined => {
      const v = c[k];
      return Array.isArray(v) ? v[0] : v;
    };
    const many = (k: string): string[] => {
      const v = c[k];
      return v === undefined ? [] : Array.isArray(v) ? v : [v];
    };
    const port = one('port');
    const user = one('user');
    const hostName = one('hostname');
    const tokens = { alias, host: hostName ? expandTokens(hostName, { alias, host: alias }) : alias, port: port ?? '22', user };
    return {
      hostName: hostName ? tokens.host : undefined,
      user,
      port: port !== undefined && /^\d+$/.test(port) ? Number(port) : undefined,
      identityFiles: many('identityfile')
        .filter((f) => f.toLowerCase() !== 'none')
        .map((f) => expandHome(expandTokens(f, tokens))),
      proxyJump: one('proxyjump'),
      serverAliveInterval: wholeNumber(one('serveraliveinterval'), 0),
      serverAliveCountMax: wholeNumber(one('serveralivecountmax'), 1),
    };
  }
}

function wholeNumber(value: string | undefined, min: number): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return n >= min ? n : undefined;
}

export interface ResolveOptions {
  config?: SshConfigLookup | null | undefined;
  /** Connection of an inventory host, when a jump spec names one. */
  inventoryConnection?: ((name: string) => Connection | undefined) | undefined;
  /** Login name when neither inventory nor ssh_config sets one (default: the local user). */
  localUser?: string | undefined;
}

let localUserCache: string | undefined;
/** The local login name (os.userInfo reads the user database: once per process, not per host). */
function localUserName(): string {
  return (localUserCache ??= userInfo().username);
}

/** Resolves an inventory host's connection into a route of endpoints. */
export function resolveSshRoute(label: string, conn: Connection, options: ResolveOptions = {}): SshRoute {
  const localUser = options.localUser ?? localUserName();
  const cfg = options.config?.lookup(conn.address) ?? { identityFiles: [] };
  // `explicit` says what the inventory set itself; without it, the defaults (address = the
  // inventory name, port 22) are taken as unset.
  const addressSet = conn.explicit?.address ?? conn.address !== label;
  const portSet = conn.explicit?.port ?? conn.port !== 22;
  const target: SshEndpoint = {
    label,
    address: addressSet ? conn.address : (cfg.hostName ?? conn.address),
    port: portSet ? conn.port : (cfg.port ?? conn.port),
    user: conn.user ?? cfg.user ?? localUser,
    identityFiles: dedupe([...(conn.privateKeyFile ? [expandHome(conn.privateKeyFile)] : []), ...cfg.identityFiles]),
    knownHostsFile: conn.knownHostsFile ? expandHome(conn.knownHostsFile) : undefined,
    password: conn.password,
    serverAliveInterval: conn.serverAliveInterval ?? cfg.serverAliveInterval,
    serverAliveCountMax: conn.serverAliveCountMax ?? cfg.serverAliveCountMax,
  };
  const specs = conn.proxyJump ?? splitProxyJump(cfg.proxyJump);
  const jumps = specs.map((spec) => resolveJump(spec, options, localUser));
  return { target, jumps };
}

function resolveJump(spec: string, options: ResolveOptions, localUser: string): SshEndpoint {
  const inv = options.inventoryConnection?.(spec);
  if (inv) {
    // An inventory host used as a bastion: its own jumps are not followed (keep routes flat).
    const { target } = resolveSshRoute(spec, { ...inv, proxyJump: [] }, { ...options, localUser });
    return target;
  }
  const parsed = parseJumpSpec(spec);
  const cfg = options.config?.lookup(parsed.host) ?? { identityFiles: [] };
  return {
    label: spec,
    address: cfg.hostName ?? parsed.host,
    port: parsed.port ?? cfg.port ?? 22,
    user: parsed.user ?? cfg.user ?? localUser,
    identityFiles: cfg.identityFiles,
    serverAliveInterval: cfg.serverAliveInterval,
    serverAliveCountMax: cfg.serverAliveCountMax,
  };
}

/** `a,b` → [a, b]; `none` or empty → []. */
export function splitProxyJump(value: string | undefined): string[] {
  if (!value || value.trim().toLowerCase() === 'none') return [];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** `[user@]host[:port]`, `[user@][v6addr]:port` or `ssh://[user@]host[:port]`. */
export function parseJumpSpec(spec: string): { user?: string | undefined; host: string; port?: number | undefined } {
  let s = spec.trim().replace(/^ssh:\/\//, '');
  let user: string | undefined;
  const at = s.lastIndexOf('@');
  if (at >= 0) {
    user = s.slice(0, at);
    s = s.slice(at + 1);
  }
  let host = s;
  let port: number | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracket) {
    host = bracket[1] ?? s;
    port = bracket[2] ? Number(bracket[2]) : undefined;
  } else {
    const m = /^([^:]+):(\d+)$/.exec(s);
    if (m) {
      host = m[1] ?? s;
      port = Number(m[2]);
    }
  }
  if (host === '') throw new Error(`invalid jump host "${spec}"`);
  return { user: user || undefined, host, port };
}

export function expandHome(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return path;
}

/** The ssh_config(5) TOKENS remedy can know: %% %h %n %p %r %u %d. */
function expandTokens(value: string, t: { alias: string; host: string; port?: string; user?: string | undefined }): string {
  return value.replace(/%([%hnprud])/g, (_m, k: string) => {
    switch (k) {
      case '%':
        return '%';
      case 'h':
        return t.host;
      case 'n':
        return t.alias;
      case 'p':
        return t.port ?? '22';
      case 'r':
        return t.user ?? userInfo().username;
      case 'u':
        return userInfo().username;
      default:
        return homedir();
    }
  });
}

/** Inlines `Include` lines (the ssh-config package leaves them as directives). */
function expandIncludes(text: string, baseDir: string, depth: number): string {
  if (depth > 8) return text;
  return text
    .split('\n')
    .map((line) => {
      const m = /^\s*include\s+(.+?)\s*$/i.exec(line);
      if (!m?.[1]) return line;
      return m[1]
        .split(/\s+/)
        .flatMap((p) => globFiles(isAbsolute(expandHome(p)) ? expandHome(p) : join(baseDir, p)))
        .map((f) => {
          try {
            return expandIncludes(readFileSync(f, 'utf8'), baseDir, depth + 1);
          } catch {
            return '';
          }
        })
        .join('\n');
    })
    .join('\n');
}

/** Wildcards in the last path component only, which covers `config.d/*`. */
function globFiles(path: string): string[] {
  const name = basename(path);
  if (!/[*?]/.test(name)) return [path];
  try {
    return readdirSync(dirname(path))
      .filter((f) => matchPattern(f, name))
      .sort()
      .map((f) => join(dirname(path), f));
  } catch {
    return [];
  }
}

function dedupe(list: string[]): string[] {
  return [...new Set(list)];
}
