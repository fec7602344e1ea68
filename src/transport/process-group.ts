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

export const SIGNALED_MARKER = '__remedy_signaled__';

function checkPgid(pgid: number): void {
  if (!Number.isSafeInteger(pgid) || pgid <= 1) throw new Error(`refusing to signal process group ${pgid}`);
}

/**
 * Signals everything a command started: its process group and every descendant of the group's
 * processes, also those in a session of their own (sudo with use_pty puts the command in one).
 * The tree is walked through `ps`, before anything is signalled, so processes whose parent dies
 * are still reached. The group is signalled first, in one kill(2), then the rest parents before
 * children: a shell whose child died first would otherwise run on (echo "finished", exit 0)
 * for the moment before its own signal. Prints the pids it signalled after SIGNALED_MARKER, for the survivor check.
 * Run through the command's become path, it reaches processes the login user may not signal.
 */
export function signalTreeCommand(pgid: number, signal: 'TERM' | 'KILL', alsoPids: readonly number[] = []): string {
  checkPgid(pgid);
  const extra = alsoPids.filter((p) => Number.isSafeInteger(p) && p > 1).join(' ');
  const walk =
    `ps -e -o pid= -o ppid= -o pgid= 2>/dev/null | awk -v r=${pgid} ` +
    `'{ p[NR] = $1; pp[NR] = $2; g[NR] = $3; if ($1 == r) { k[r] = 1; o[++n] = r } } ` +
    `END { do { c = 0; for (i = 1; i <= NR; i++) if (!(p[i] in k) && (g[i] == r || (pp[i] in k))) { k[p[i]] = 1; o[++n] = p[i]; c = 1 } } while (c); for (j = 1; j <= n; j++) print o[j] }'`;
  return (
    `remedy_pids=$(${walk}); ` +
    `kill -s ${signal} -- -${pgid} 2>/dev/null; ` +
    `for p in $remedy_pids ${extra}; do kill -s ${signal} "$p" 2>/dev/null; done; ` +
    `echo ${SIGNALED_MARKER} $remedy_pids ${extra}`
  );
}

/** Which of `pids` are still alive (zombies, already dead but not reaped, do not count). */
export function survivorsCommand(pids: readonly number[]): string {
  const list = pids.filter((p) => Number.isSafeInteger(p) && p > 1).join(' ');
  return `for p in ${list}; do s=$(ps -o stat= -p "$p" 2>/dev/null) || continue; case "$s" in Z*) ;; *) printf '%s ' "$p" ;; esac; done; echo ${SIGNALED_MARKER}`;
}

/** Pids printed after the marker by signalTreeCommand / survivorsCommand, or null without the marker. */
export function parseSignaled(stdout: string, marker = SIGNALED_MARKER): number[] | null {
  const line = stdout.split('\n').find((l) => l.includes(marker));
  if (line === undefined) return null;
  const before = line.slice(0, line.indexOf(marker));
  const after = line.slice(line.indexOf(marker) + marker.length);
  return [
    ...new Set(
      `${before} ${after}`
        .split(/\s+/)
        .filter((w) => /^\d+$/.test(w))
        .map(Number),
    ),
  ];
}
