// Plain lines for CI logs and pipes: one line per step start/end, host end, decision, approval,
// outcome and warning, each with the time, the step and the host, so a log grep finds them.
// Live output lines (host-output) and host starts are left out: the run directory has them.
import type { EventSink, RunEvent } from '../engine/events.js';
import { clockTime, colors, formatDuration, paintOutcome, paintStatus, type Colors } from './format.js';

export interface PlainSinkOptions {
  /** Colours (on a TTY unless NO_COLOR; see colorEnabled). */
  color?: boolean | undefined;
}

export class PlainSink implements EventSink {
  readonly #out: NodeJS.WritableStream;
  readonly #c: Colors;

  constructor(out: NodeJS.WritableStream, options: PlainSinkOptions = {}) {
    this.#out = out;
    this.#c = colors(options.color === true);
  }

  write(event: RunEvent): void {
    const line = formatPlainLine(event, this.#c);
    if (line !== null) this.#out.write(`${this.#c.dim(clockTime(event.time))} ${line}\n`);
  }

  async close(): Promise<void> {}
}

/** The line an event prints as (without the time prefix), or null for events not shown. */
export function formatPlainLine(ev: RunEvent, c: Colors = colors(false)): string | null {
  switch (ev.type) {
    case 'run-start':
      return `${c.bold('run')} ${ev.runbook} ${c.dim(`plan ${shortHash(ev.planHash)}`)} · ${ev.hosts.length} host${ev.hosts.length === 1 ? '' : 's'} · ${ev.mode} · operator ${ev.operator}${ev.resumedFrom ? ` · resumes ${ev.resumedFrom}` : ''}${ev.runDir ? ` · ${ev.runDir}` : ''}`;
    case 'step-start': {
      const tags = [
        ev.mutates ? c.red('mutates') : '',
        ev.batch !== undefined ? `batch ${ev.batch}/${ev.batches ?? '?'}` : '',
        ev.rollbackOf ? c.yellow(`rollback of ${ev.rollbackOf}`) : '',
      ].filter(Boolean);
      return `${c.bold('step')} ${ev.step} ${c.dim('start')} "${ev.name}" on ${ev.hosts.length} host${ev.hosts.length === 1 ? '' : 's'}${tags.length ? ` [${tags.join(', ')}]` : ''}`;
    }
    case 'step-skip':
      return `${c.bold('step')} ${ev.step} ${paintStatus(c, 'skipped')}: ${ev.reason}`;
    case 'host-end': {
      const bits = [ev.exitCode !== null ? `exit ${ev.exitCode}` : ev.signal !== null ? `signal ${ev.signal}` : '', formatDuration(ev.durationMs)];
      if (ev.attempt > 1) bits.push(`attempt ${ev.attempt}`);
      if (ev.iteration !== undefined) bits.push(`iteration ${ev.iteration}`);
      if (ev.phase) bits.push(ev.phase);
      if (ev.final !== true) bits.push('not final');
      const why = ev.error ?? ev.reason;
      return `  ${ev.host} ${ev.step}: ${paintStatus(c, ev.status)} (${bits.filter(Boolean).join(', ')})${why ? ` ${c.dim('—')} ${why}` : ''}`;
    }
    case 'step-end': {
      const counts = Object.entries(ev.counts)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');
      return `${c.bold('step')} ${ev.step} ${paintStatus(c, ev.status)} in ${formatDuration(ev.durationMs)}${counts ? ` (${counts})` : ''}${ev.next === null ? c.dim(' · run ends') : ''}`;
    }
    case 'decision':
      return `${c.bold('decision')} ${ev.step}: cause ${c.bold(ev.cause)}${ev.evidence.condition ? ` ${c.dim(`because ${ev.evidence.condition}`)}` : c.dim(' (default)')}${ev.override ? ` ${c.yellow(`overridden by ${ev.override.operator}, was ${ev.override.from}`)}` : ev.confirmedBy !== undefined ? ` ${c.dim(`accepted by ${ev.confirmedBy}`)}` : ''}`;
    case 'approval': {
      const d = ev.decision === 'approved' ? c.green(ev.decision) : c.yellow(ev.decision);
      return `${c.bold('approval')} ${ev.step}: ${d} by ${ev.operator} (${ev.source})${ev.batch !== undefined ? ` batch ${ev.batch}` : ''} for ${ev.hosts.join(', ') || 'no host'}${ev.comment ? `: "${ev.comment}"` : ''}`;
    }
    case 'rollback':
      return `${c.yellow('rollback')} ${ev.step} on ${ev.host}: ${ev.reason}`;
    case 'lock':
      return `${c.dim('lock')} ${ev.host} ${ev.action === 'refused' || ev.action === 'broken' ? c.yellow(ev.action) : ev.action}${ev.detail ? `: ${ev.detail}` : ''}`;
    case 'bundle':
      return `${c.bold('bundle')} ${ev.step}: ${ev.path} (${ev.files} files, ${ev.bytes} bytes, sha256 ${ev.sha256})`;
    case 'outcome':
      return `${c.bold('outcome')} ${ev.step}: ${ev.status === 'escalate' ? c.yellow(ev.status) : c.green(ev.status)}: ${ev.message}`;
    case 'warning':
      return `${c.yellow('warning')}${ev.step ? ` ${ev.step}` : ''}${ev.host ? ` on ${ev.host}` : ''}: ${ev.message}`;
    case 'run-end':
      return `${c.bold('end')} ${paintOutcome(c, ev.outcome)} (exit ${ev.exitCode}) in ${formatDuration(ev.durationMs)}${ev.cause !== null ? ` · cause ${ev.cause}` : ''}${ev.message ? ` · ${ev.message}` : ''}`;
    case 'host-start':
    case 'host-output':
      return null;
    default:
      // An event type newer than this view: not shown (the journal and jsonl still carry it).
      return null;
  }
}

/** `sha256:b429e48e8829…`: enough to tell plans apart on screen (the journal and result.json keep it whole). */
export function shortHash(hash: string): string {
  const m = /^(\w+:)?([0-9a-f]+)$/.exec(hash);
  return m && (m[2] as string).length > 12 ? `${m[1] ?? ''}${(m[2] as string).slice(0, 12)}…` : hash;
}
