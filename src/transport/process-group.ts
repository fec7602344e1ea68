// Timeouts must kill what a command started, not only close its channel (sshd leaves orphans
// running then). Each command runs as the leader of its own process group, announces the group
// id on stderr first, and a second exec can signal the whole group.
import { shellQuote } from '../shell/quote.js';

export const PGID_MARKER = '__remedy_pgid__=';

/**
 * Wraps `command` (run by the login shell, as sshd does) so it announces its process group.
 * OpenSSH starts every non-pty session with setsid(), so the login shell already leads a fresh
 * group: then the command runs inline, in the user's own shell, with its exit status and death
 * signal intact. Servers that do not (checked via /proc) get `setsid -w` instead. Everything is
 * on one line so shell error messages keep the command's own line numbers.
 */
export function wrapInProcessGroup(command: string): string {
  const announce = `printf '%s%s\\n' '${PGID_MARKER}' "$$" >&2`;
  const inner = `printf "%s%s\\n" ${PGID_MARKER} "$$" >&2; exec "\${SHELL:-/bin/sh}" -c "$1"`;
  return (
    `{ read -r _ _ _ _ remedy_pg _; } 2>/dev/null </proc/$$/stat; ` +
    `if [ "\${remedy_pg:-}" = "$$" ]; then unset remedy_pg; ${announce}; ` +
    `elif command -v setsid >/dev/null 2>&1; then exec setsid -w "\${SHELL:-/bin/sh}" -c '${inner}' remedy ${shellQuote(command)}; ` +
    // No /proc and no setsid: announce the shell itself; the kill falls back to its pid.
    `else unset remedy_pg; ${announce}; fi; ${command}`
  );
}

/** Signals the group (or, when it is not a group, the process) announced as `pgid`. */
export function killProcessGroupCommand(pgid: number, signal: 'TERM' | 'KILL'): string {
  if (!Number.isSafeInteger(pgid) || pgid <= 1) throw new Error(`refusing to signal process group ${pgid}`);
  return `kill -s ${signal} -- -${pgid} 2>/dev/null || kill -s ${signal} ${pgid} 2>/dev/null; true`;
}
