// How remedy writes durations, sizes and statuses for people: one place, so the console, the
// recap and the reports agree.
import pc from 'picocolors';
import type { HostStatus, RunOutcome } from '../engine/events.js';

/** 850 → `850ms`, 3420 → `3.4s`, 125000 → `2m05s`, 3723000 → `1h02m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const totalSeconds = Math.round(ms / 1000);
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s).padStart(2, '0')}s`;
}

/** 512 → `512 B`, 2048 → `2.0 KiB`, … */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** `HH:MM:SS` (UTC) of an event's ISO time, for line prefixes. */
export function clockTime(iso: string): string {
  const m = /T(\d{2}:\d{2}:\d{2})/.exec(iso);
  return m?.[1] ?? iso;
}

/** Whether to colour a stream: never with NO_COLOR, always with FORCE_COLOR, else on a TTY. */
export function colorEnabled(stream: { isTTY?: boolean | undefined }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

export type Colors = ReturnType<typeof pc.createColors>;

export function colors(enabled: boolean): Colors {
  return pc.createColors(enabled);
}

export function paintStatus(c: Colors, status: HostStatus | 'started' | 'partial' | 'interrupted', text: string = status): string {
  switch (status) {
    case 'ok':
      return c.green(text);
    case 'changed':
      return c.yellow(text);
    case 'failed':
    case 'timed-out':
    case 'interrupted':
      return c.red(text);
    case 'unreachable':
      return c.magenta(text);
    case 'partial':
      return c.yellow(text);
    case 'skipped':
      return c.dim(text);
    default:
      return c.cyan(text);
  }
}

export function paintOutcome(c: Colors, outcome: RunOutcome, text: string = outcome): string {
  switch (outcome) {
    case 'resolved':
    case 'nothing-to-do':
      return c.green(c.bold(text));
    case 'escalated':
    case 'refused':
      return c.yellow(c.bold(text));
    case 'unreachable':
      return c.magenta(c.bold(text));
    default:
      return c.red(c.bold(text));
  }
}
