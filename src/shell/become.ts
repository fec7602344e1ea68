// Privilege escalation as a pure rewrite of the command line, so the plan shows exactly what
// the host will receive. Passwords never go on the command line: sudo -S reads them from stdin.
import type { BecomeMethod } from '../inventory/types.js';
import { shellJoin } from './quote.js';

/** sudo writes this prompt to stderr before reading the password; the transport strips it. */
export const SUDO_PROMPT_MARKER = '[remedy-sudo-password]';

export interface BecomeRequest {
  method: BecomeMethod;
  user: string;
  /** When set, sudo reads it from stdin (-S) instead of failing fast (-n). */
  password?: string | undefined;
}

export interface WrappedCommand {
  command: string;
  /** Bytes to write to stdin before anything else (the sudo password line). */
  stdinPrefix?: string | undefined;
  /**
   * How to signal what this command started: the same become path (a command run as root cannot
   * be killed by the login user). Non-enumerable, so it is never serialized or compared.
   */
  readonly killPath?: KillPath | undefined;
}

/** A become path for control commands (the kill of a timed-out command) and its name for reports. */
export interface KillPath {
  wrap: (command: string) => WrappedCommand;
  /** e.g. "sudo as root". */
  label: string;
}

export function wrapBecome(command: string, become: BecomeRequest | null): WrappedCommand {
  if (!become || become.method === 'none') return { command };
  const wrapped = wrapBecomeCommand(command, become);
  Object.defineProperty(wrapped, 'killPath', {
    value: { wrap: (cmd: string) => wrapBecomeCommand(cmd, become), label: `${become.method} as ${become.user}` } satisfies KillPath,
    enumerable: false,
  });
  return wrapped;
}

function wrapBecomeCommand(command: string, become: BecomeRequest): WrappedCommand {
  if (become.method === 'runuser') {
    return { command: shellJoin(['runuser', '-u', become.user, '--', 'sh', '-c', command]) };
  }
  if (become.password !== undefined) {
    // The password line is read by the shell, handed to `sudo -v` (which caches the credential
    // only if sudo asks for one), and never reaches the command: with NOPASSWD or as root, a
    // plain `sudo -S cmd` would pass it on as the command's first line of input. printf is a
    // shell builtin, so the password is in no process's argv.
    const validate = `IFS= read -r remedy_pw; printf '%s\\n' "$remedy_pw" | sudo -S -p ${shellJoin([SUDO_PROMPT_MARKER])} -v 2>/dev/null; unset remedy_pw`;
    return {
      command: `${validate}; exec ${shellJoin(['sudo', '-n', '-H', '-u', become.user, '--', 'sh', '-c', command])}`,
      stdinPrefix: `${become.password}\n`,
    };
  }
  return { command: shellJoin(['sudo', '-n', '-H', '-u', become.user, '--', 'sh', '-c', command]) };
}

/**
 * How to read a file as `user` (fetch with readAs): the host's become method, or sudo — Ansible's
 * default — when the host has none configured.
 */
export function readAsWrapper(become: { method: BecomeMethod; password?: string | undefined } | undefined, user: string): (cmd: string) => WrappedCommand {
  const method = become && become.method !== 'none' ? become.method : 'sudo';
  return (cmd) => wrapBecome(cmd, { method, user, password: become?.password });
}
