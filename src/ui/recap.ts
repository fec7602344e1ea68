// The final recap, one line per host, like Ansible's PLAY RECAP: how many steps were ok (of which
// changed something), failed, found the host unreachable, or were skipped. Each (step, host)
// counts once, as it ended: retries, repeats and verification do not add up.
import type { FinalHostStatus, HostStatus, RunEvent, RunOutcome, RunScope } from '../engine/events.js';
import { colors, formatDuration, paintOutcome, type Colors } from './format.js';

export interface HostRecap {
  /** Steps that succeeded on the host, changed or not (Ansible's `ok`). */
  ok: number;
  /** Of those, steps that changed something. */
  changed: number;
  /** Failed or timed out. */
  failed: number;
  unreachable: number;
  skipped: number;
  /** result.json's status for the host, when the run ended. */
  final: FinalHostStatus | null;
}

export interface Recap {
  runbook: string | null;
  outcome: RunOutcome | null;
  exitCode: number | null;
  durationMs: number | null;
  /** Set when --limit left hosts out: the recap (and verdict) covers only the hosts listed. */
  scope: RunScope | null;
  hosts: Map<string, HostRecap>;
}

export class RecapCounter {
  readonly #run: Omit<Recap, 'hosts'> = { runbook: null, outcome: null, exitCode: null, durationMs: null, scope: null };
  readonly #hosts: string[] = [];
  readonly #final = new Map<string, FinalHostStatus>();
  /** Per (step, host): the last final status (a retried host counts once, as it ended). */
  readonly #last = new Map<string, { host: string; status: HostStatus; changed: boolean }>();
  readonly #changed = new Set<string>();

  add(ev: RunEvent): void {
    switch (ev.type) {
      case 'run-start':
        this.#run.runbook = ev.runbook;
        this.#run.scope = ev.scope ?? null;
        for (const h of ev.hosts) this.#host(h);
        break;
      case 'host-end': {
        const key = `${ev.step}\u0000${ev.host}`;
        if (ev.status === 'changed') this.#changed.add(key);
        if (ev.final !== true) break;
        this.#host(ev.host);
        this.#last.set(key, { host: ev.host, status: ev.status, changed: this.#changed.has(key) });
        break;
      }
      case 'run-end':
        this.#run.outcome = ev.outcome;
        this.#run.exitCode = ev.exitCode;
        // Each segment of a resumed run records its own time: the recap covers them all.
        this.#run.durationMs = (this.#run.durationMs ?? 0) + ev.durationMs;
        for (const [host, status] of Object.entries(ev.hosts ?? {})) {
          this.#host(host);
          this.#final.set(host, status);
        }
        break;
      default:
        break;
    }
  }

  get recap(): Recap {
    const hosts = new Map<string, HostRecap>(
      this.#hosts.map((h) => [h, { ok: 0, changed: 0, failed: 0, unreachable: 0, skipped: 0, final: this.#final.get(h) ?? null }]),
    );
    for (const { host, status, changed } of this.#last.values()) {
      const h = hosts.get(host) as HostRecap;
      switch (status) {
        case 'ok':
        case 'changed':
          h.ok++;
          if (changed) h.changed++;
          break;
        case 'failed':
        case 'timed-out':
          h.failed++;
          break;
        case 'unreachable':
          h.unreachable++;
          break;
        case 'skipped':
          h.skipped++;
          break;
      }
    }
    return { ...this.#run, hosts };
  }

  #host(name: string): void {
    if (!this.#hosts.includes(name)) this.#hosts.push(name);
  }
}

export function computeRecap(events: readonly RunEvent[]): Recap {
  const counter = new RecapCounter();
  for (const ev of events) counter.add(ev);
  return counter.recap;
}

export function renderRecap(recap: Recap, c: Colors = colors(false)): string {
  const names = [...recap.hosts.keys()];
  const width = Math.max(4, ...names.map((n) => n.length));
  const lines: string[] = [];
  const head =
    recap.outcome !== null
      ? ` ${recap.runbook ?? ''} · ${paintOutcome(c, recap.outcome)} (exit ${recap.exitCode})${recap.durationMs !== null ? ` in ${formatDuration(recap.durationMs)}` : ''}`
      : ` ${recap.runbook ?? ''} · ${c.red('no run-end recorded')}`;
  lines.push(`${c.bold('RECAP')}${head}`);
  if (names.length === 0) lines.push(c.dim('  no host'));
  for (const name of names) {
    const h = recap.hosts.get(name) as HostRecap;
    const paintName =
      h.unreachable > 0 || h.final === 'unreachable'
        ? c.magenta
        : h.failed > 0 || h.final === 'failed' || h.final === 'not-remediated'
          ? c.red
          : h.changed > 0
            ? c.yellow
            : h.ok > 0
              ? c.green
              : c.dim;
    const n = (label: string, v: number, paint: (s: string) => string): string => {
      const text = `${label}=${v}`.padEnd(label.length + 4);
      return v > 0 ? paint(text) : text;
    };
    lines.push(
      `${paintName(name.padEnd(width))}  : ${n('ok', h.ok, c.green)} ${n('changed', h.changed, c.yellow)} ${n('unreachable', h.unreachable, c.magenta)} ${n('failed', h.failed, c.red)} ${n('skipped', h.skipped, c.cyan)}${h.final !== null ? ` ${c.dim(h.final)}` : ''}`.trimEnd(),
    );
  }
  if (recap.scope) lines.push(c.yellow(`  scope: --limit '${recap.scope.limit}' only; not looked at: ${recap.scope.excluded.join(', ')}`));
  return `${lines.join('\n')}\n`;
}
