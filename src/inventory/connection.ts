// From a host's merged vars to how remedy reaches it (Connection) and escalates (BecomeSettings),
// honouring the ansible_* vars Ansible's ssh connection and become plugins read. Everything here is
// pure: ssh_config is applied later by the transport, to whatever the inventory left unset.
import { renderConnectionVar } from './host-templates.js';
import { JinjaError, hasJinja, pyStr } from './jinja.js';
import { splitShellWords } from './shell-words.js';
import type { BecomeMethod, BecomeSettings, Connection, Vars } from './types.js';

export interface ConnectionIssue {
  /** The var whose value is wrong (its origin locates the message). */
  key: string;
  message: string;
  severity: 'error' | 'warning';
}

export interface HostAccess {
  connection: Connection;
  become: BecomeSettings;
  issues: ConnectionIssue[];
}

const SSH_CONNECTIONS = new Set(['ssh', 'smart', 'paramiko', 'paramiko_ssh']);
const BECOME_METHODS: readonly BecomeMethod[] = ['sudo', 'runuser', 'none'];
const TRUE_WORDS = new Set(['y', 'yes', 'on', '1', 'true', 't']);
const FALSE_WORDS = new Set(['n', 'no', 'off', '0', 'false', 'f', '']);

/** `groups`: the host's groups, for templates that read group_names. */
export function hostAccess(host: string, vars: Vars, groups: readonly string[] = []): HostAccess {
  const issues: ConnectionIssue[] = [];
  const read = (...keys: string[]): { key: string; value: string } | undefined => {
    for (const key of keys) {
      const value = vars[key];
      if (value === undefined || value === null) continue;
      if (typeof value === 'object') {
        issues.push({ key, message: `${key} must be a single value, not ${Array.isArray(value) ? 'a list' : 'a mapping'}`, severity: 'error' });
        return undefined;
      }
      let expanded: string;
      try {
        const text = String(value);
        expanded = hasJinja(text) ? pyStr(renderConnectionVar(host, vars, [...groups], text)) : text;
      } catch (err) {
        const construct = err instanceof JinjaError && err.construct ? `${err.construct}, which remedy does not render` : (err as Error).message;
        issues.push({ key, message: `${key} uses a template remedy cannot resolve (${JSON.stringify(value)}): ${construct}`, severity: 'error' });
        return undefined;
      }
      return { key, value: expanded };
    }
    return undefined;
  };

  let type: Connection['type'] = 'ssh';
  const conn = read('ansible_connection');
  if (conn) {
    const kind = conn.value.replace(/^ansible\.(builtin|legacy)\./, '').toLowerCase();
    if (kind === 'local') type = 'local';
    else if (!SSH_CONNECTIONS.has(kind)) {
      issues.push({ key: conn.key, message: `ansible_connection '${conn.value}' is not supported; remedy connects with ssh or local`, severity: 'error' });
    }
  }

  const address = read('ansible_host', 'ansible_ssh_host');
  const portVar = read('ansible_port', 'ansible_ssh_port');
  let port = 22;
  if (portVar) {
    const n = /^\s*\d+\s*$/.test(portVar.value) ? Number(portVar.value) : NaN;
    if (Number.isInteger(n) && n >= 1 && n <= 65535) port = n;
    else issues.push({ key: portVar.key, message: `${portVar.key} must be a port number (1-65535), got ${JSON.stringify(portVar.value)}`, severity: 'error' });
  }

  const connection: Connection = {
    type,
    address: address?.value ?? host,
    port,
    user: read('ansible_user', 'ansible_ssh_user')?.value,
    privateKeyFile: read('ansible_ssh_private_key_file', 'ansible_private_key_file')?.value,
    proxyJump: proxyJump(vars, read, issues),
    knownHostsFile: read('remedy_known_hosts')?.value,
    password: read('ansible_password', 'ansible_ssh_pass', 'ansible_ssh_password')?.value,
    ...serverAlive(read, issues),
    explicit: { address: address !== undefined, port: portVar !== undefined },
  };
  return { connection, become: becomeSettings(read, issues), issues };
}

type Reader = (...keys: string[]) => { key: string; value: string } | undefined;

function becomeSettings(read: Reader, issues: ConnectionIssue[]): BecomeSettings {
  let always = false;
  const become = read('ansible_become');
  if (become) {
    const word = become.value.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) always = true;
    else if (!FALSE_WORDS.has(word)) {
      issues.push({ key: become.key, message: `ansible_become must be true or false (yes/no), got ${JSON.stringify(become.value)}`, severity: 'error' });
    }
  }
  let method: BecomeMethod = 'sudo';
  const methodVar = read('ansible_become_method');
  if (methodVar) {
    const m = methodVar.value.replace(/^ansible\.builtin\./, '').trim();
    if ((BECOME_METHODS as readonly string[]).includes(m)) method = m as BecomeMethod;
    else {
      issues.push({
        key: methodVar.key,
        message: `ansible_become_method '${methodVar.value}' is not supported; remedy becomes with sudo, runuser or none`,
        severity: 'error',
      });
    }
  }
  return {
    always,
    method,
    user: read('ansible_become_user')?.value ?? 'root',
    password: read('ansible_become_password', 'ansible_become_pass', 'ansible_sudo_pass')?.value,
  };
}

/**
 * Jump hosts: remedy_proxy_jump first (a list, or "a,b"), else what OpenSSH would take from
 * ansible_ssh_common_args / ansible_ssh_extra_args: -J, -o ProxyJump, or the classic
 * -o ProxyCommand="ssh -W %h:%p bastion", which is the same thing spelled longer.
 */
function proxyJump(vars: Vars, read: Reader, issues: ConnectionIssue[]): string[] | undefined {
  const list = vars.remedy_proxy_jump;
  if (Array.isArray(list)) {
    if (list.every((j) => typeof j === 'string' && j.trim() !== '')) return list.length ? (list as string[]).map((j) => j.trim()) : undefined;
    issues.push({ key: 'remedy_proxy_jump', message: 'remedy_proxy_jump must be a list of host names or "user@host:port" strings', severity: 'error' });
    return undefined;
  }
  const explicit = read('remedy_proxy_jump');
  if (explicit) return jumpList(explicit.value);
  for (const key of ['ansible_ssh_common_args', 'ansible_ssh_extra_args']) {
    const args = read(key);
    if (!args) continue;
    const found = jumpFromSshArgs(args.value);
    if ('error' in found) {
      issues.push({ key, message: `${key}: ${found.error}`, severity: 'error' });
      return undefined;
    }
    if (found.ignored.length > 0) {
      issues.push({
        key,
        message: `${key}: remedy ignores ${found.ignored.join(' ')} (it honours only the jump host and ServerAliveInterval/ServerAliveCountMax)`,
        severity: 'warning',
      });
    }
    if (found.jump) return found.jump;
  }
  return undefined;
}

/** ServerAliveInterval / ServerAliveCountMax from the ssh args vars (the first var that sets one wins). */
function serverAlive(read: Reader, issues: ConnectionIssue[]): { serverAliveInterval?: number; serverAliveCountMax?: number } {
  const out: { serverAliveInterval?: number; serverAliveCountMax?: number } = {};
  for (const key of ['ansible_ssh_common_args', 'ansible_ssh_extra_args']) {
    const args = read(key);
    if (!args) continue;
    const found = sshArgs(args.value);
    if ('error' in found) continue; // reported by proxyJump()
    for (const [name, value] of [
      ['ServerAliveInterval', found.serverAliveInterval],
      ['ServerAliveCountMax', found.serverAliveCountMax],
    ] as const) {
      if (value === undefined) continue;
      const n = /^\d+$/.test(value) ? Number(value) : NaN;
      const max = name === 'ServerAliveInterval' ? 86_400 : 1000;
      if (!Number.isInteger(n) || n > max || (name === 'ServerAliveCountMax' && n < 1)) {
        issues.push({
          key,
          message: `${key}: ${name} must be a whole number ${name === 'ServerAliveInterval' ? 'of seconds (0-86400, 0 = off)' : '(1-1000)'}, got ${JSON.stringify(value)}`,
          severity: 'error',
        });
        continue;
      }
      if (name === 'ServerAliveInterval') out.serverAliveInterval ??= n;
      else out.serverAliveCountMax ??= n;
    }
  }
  return out;
}

function jumpList(text: string): string[] | undefined {
  const hosts = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return hosts.length === 0 || (hosts.length === 1 && hosts[0]?.toLowerCase() === 'none') ? undefined : hosts;
}

type SshArgs = { jump: string[] | undefined; serverAliveInterval?: string; serverAliveCountMax?: string; ignored: string[] } | { error: string };

/** What remedy honours in OpenSSH arguments: the jump host and the keepalive settings. */
export function jumpFromSshArgs(args: string): SshArgs {
  return sshArgs(args);
}

function sshArgs(args: string): SshArgs {
  const split = splitShellWords(args);
  if (!split.ok) return { error: `cannot read the arguments: ${split.error}` };
  const words = split.words.map((w) => w.text);
  const ignored: string[] = [];
  let jump: string[] | undefined;
  let serverAliveInterval: string | undefined;
  let serverAliveCountMax: string | undefined;
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    let option: string | undefined;
    if (w === '-J') jump ??= jumpList(words[++i] ?? '');
    else if (w.startsWith('-J')) jump ??= jumpList(w.slice(2));
    else if (w === '-o') option = words[++i] ?? '';
    else if (w.startsWith('-o')) option = w.slice(2);
    else ignored.push(w);
    if (option === undefined) continue;
    const m = /^\s*(\w+)\s*(?:=|\s)\s*(.*)$/s.exec(option);
    const name = m?.[1]?.toLowerCase();
    const value = m?.[2]?.trim() ?? '';
    if (name === 'proxyjump') jump ??= jumpList(value);
    else if (name === 'proxycommand') {
      if (value.toLowerCase() === 'none') continue;
      const via = jumpFromProxyCommand(value);
      if (!via) return { error: `ProxyCommand '${value}' is not supported; use ProxyJump (-J), or set remedy_proxy_jump` };
      jump ??= [via];
    } else if (name === 'serveraliveinterval') serverAliveInterval ??= value;
    else if (name === 'serveralivecountmax') serverAliveCountMax ??= value;
    else ignored.push(`-o ${option}`);
  }
  return {
    jump,
    ignored,
    ...(serverAliveInterval !== undefined ? { serverAliveInterval } : {}),
    ...(serverAliveCountMax !== undefined ? { serverAliveCountMax } : {}),
  };
}

/** `ssh [-q] [-p PORT] [-l USER] [-i KEY] -W %h:%p [USER@]HOST` → "USER@HOST:PORT". */
function jumpFromProxyCommand(command: string): string | undefined {
  const split = splitShellWords(command);
  if (!split.ok) return undefined;
  const words = split.words.map((w) => w.text);
  if (!/(^|\/)ssh$/.test(words[0] ?? '')) return undefined;
  let port: string | undefined;
  let user: string | undefined;
  let forward = false;
  const positional: string[] = [];
  for (let i = 1; i < words.length; i++) {
    const w = words[i] as string;
    if (w === '-W') forward = words[++i] === '%h:%p';
    else if (w === '-p') port = words[++i];
    else if (w === '-l') user = words[++i];
    else if (w === '-i' || w === '-o' || w === '-F')
      i++; // options of the hop itself; the transport has its own
    else if (/^-[46AaCqTtvXxYy]+$/.test(w)) continue;
    else if (w.startsWith('-')) return undefined;
    else positional.push(w);
  }
  if (!forward || positional.length !== 1) return undefined;
  let dest = positional[0] as string;
  if (user && !dest.includes('@')) dest = `${user}@${dest}`;
  return port ? `${dest}:${port}` : dest;
}
