// What the live view knows about one step (one rolling batch) and its hosts, and how it words
// them. Filled from events; the listr2 tasks in listr-view.ts only display it.
import { stripVTControlCharacters } from 'node:util';
import type { HostStatus, RunEvent } from '../engine/events.js';
import { formatDuration, paintStatus, type Colors } from './format.js';

type Ev<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;

/** The part of listr2's TaskWrapper the view uses. */
export interface TaskHandle {
  title: string;
  output: string;
  skip(message?: string): void;
}

export interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  settled: boolean;
}

export function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  const d: Deferred = { promise, resolve: () => undefined, settled: false };
  d.resolve = () => {
    d.settled = true;
    resolve();
  };
  return d;
}

export interface HostView {
  host: string;
  phase: 'waiting' | 'running' | 'done';
  status: HostStatus | null;
  attempt: number;
  iteration?: number | undefined;
  verify: boolean;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  line: string;
  error?: string | undefined;
  reason?: string | undefined;
  task: TaskHandle | null;
  /** Resolved when the host is done with the step, or the segment closes. */
  done: Deferred;
}

export function newHostView(host: string): HostView {
  return {
    host,
    phase: 'waiting',
    status: null,
    attempt: 0,
    verify: false,
    exitCode: null,
    signal: null,
    durationMs: 0,
    line: '',
    task: null,
    done: deferred(),
  };
}

export function applyHostStart(h: HostView, ev: Ev<'host-start'>): void {
  h.phase = 'running';
  h.status = null;
  h.attempt = ev.attempt;
  h.iteration = ev.iteration;
  h.verify = ev.phase === 'verify';
  h.line = '';
}

/** Returns true when the host is done with the step. */
export function applyHostEnd(h: HostView, ev: Ev<'host-end'>): boolean {
  h.status = ev.status;
  h.attempt = ev.attempt;
  h.iteration = ev.iteration;
  h.verify = ev.phase === 'verify';
  h.exitCode = ev.exitCode;
  h.signal = ev.signal;
  h.durationMs += ev.durationMs;
  h.error = ev.error;
  h.reason = ev.reason;
  if (ev.final === true) {
    h.phase = 'done';
    h.line = '';
    return true;
  }
  return false;
}

/**
 * The host's line. In a compact step (more hosts than the terminal shows), hosts waiting or done
 * well get an empty title, which listr2 does not draw: only running and failed hosts remain.
 */
export function hostTitle(h: HostView, c: Colors, compact = false): string {
  if (compact && (h.phase === 'waiting' || (h.phase === 'done' && hostFailure(h) === null))) return '';
  const bits: string[] = [];
  if (h.attempt > 1) bits.push(`attempt ${h.attempt}`);
  if (h.iteration !== undefined) bits.push(`iteration ${h.iteration}`);
  if (h.verify) bits.push('verify');
  if (h.phase !== 'done' || h.status === null) return `${h.host}${bits.length ? c.dim(` ${bits.join(' · ')}`) : ''}`;
  const exit = h.exitCode !== null && h.exitCode !== 0 ? `exit ${h.exitCode}` : h.signal !== null ? h.signal : '';
  return `${h.host} ${paintStatus(c, h.status)}${exit ? ` ${exit}` : ''}${h.durationMs > 0 ? c.dim(` ${formatDuration(h.durationMs)}`) : ''}${bits.length ? c.dim(` (${bits.join(' · ')})`) : ''}`;
}

/** A host that ended badly shows as a failed task, with this message under it. */
export function hostFailure(h: HostView): string | null {
  if (h.phase !== 'done') return null;
  if (h.status === 'failed' || h.status === 'timed-out' || h.status === 'unreachable') return h.error ?? h.reason ?? h.status;
  return null;
}

export interface StepView {
  step: string;
  name: string;
  mutates: boolean;
  batch?: number | undefined;
  batches?: number | undefined;
  rollbackOf?: string | undefined;
  /** A segment that picks a step up again after the view was paused. */
  continued: boolean;
  /** Too many hosts to list: only running and failed ones are drawn, with counts in the title. */
  compact: boolean;
  hosts: Map<string, HostView>;
  notes: string[];
  /** What a decide step concluded (with its override), shown in the title: one row, not two. */
  cause?: string | undefined;
  end: Ev<'step-end'> | null;
  state: 'pending' | 'queued' | 'live' | 'closed';
  task: TaskHandle | null;
  /** Resolved by the step-end, the next step-start, a pause or close. */
  done: Deferred;
}

export function newStepView(ev: Ev<'step-start'>): StepView {
  const view: StepView = {
    step: ev.step,
    name: ev.name,
    mutates: ev.mutates,
    batch: ev.batch,
    batches: ev.batches,
    rollbackOf: ev.rollbackOf,
    continued: false,
    compact: false,
    hosts: new Map(),
    notes: [],
    end: null,
    state: 'pending',
    task: null,
    done: deferred(),
  };
  for (const h of ev.hosts) view.hosts.set(h, newHostView(h));
  return view;
}

/** The same host in a new segment: its state, a task and a promise of its own. */
export function carryHostView(h: HostView): HostView {
  return { ...h, task: null, done: deferred() };
}

/** A new segment for a step whose segment closed early (paused): the hosts still in play. */
export function continueStepView(prev: StepView): StepView {
  const view: StepView = { ...prev, continued: true, hosts: new Map(), notes: [], end: null, state: 'pending', task: null, done: deferred() };
  for (const [name, h] of prev.hosts) {
    // Hosts still running or waiting, and those that failed (a retry is what usually follows).
    const inPlay = h.phase !== 'done' || h.status === 'failed' || h.status === 'timed-out' || h.status === 'unreachable';
    if (inPlay) view.hosts.set(name, carryHostView(h));
  }
  return view;
}

/**
 * `name [id] tags — status duration · cause X`. Given the room (`width`), a long name is cut with
 * `…` so the title stays one row; the id, the status and the cause are never cut.
 */
export function stepTitle(s: StepView, c: Colors, width?: number): string {
  const tags: string[] = [];
  if (s.mutates) tags.push(c.yellow('⚑ mutates'));
  if (s.batch !== undefined) tags.push(`batch ${s.batch}/${s.batches ?? '?'}`);
  if (s.rollbackOf) tags.push(c.yellow(`rollback of ${s.rollbackOf}`));
  if (s.continued) tags.push(c.dim('continued'));
  let rest = ` ${c.dim(`[${s.step}]`)}${tags.length ? ` ${tags.join(' · ')}` : ''}`;
  if (s.compact) rest += ` ${c.dim(progress(s))}`;
  if (s.end) rest += ` ${c.dim('—')} ${paintStatus(c, s.end.status)} ${c.dim(formatDuration(s.end.durationMs))}`;
  if (s.cause) rest += ` ${c.dim('·')} ${s.cause}`;
  let name = s.name;
  if (width !== undefined) {
    const room = width - stripVTControlCharacters(rest).length;
    if (name.length > room) name = room >= 12 ? `${name.slice(0, room - 1).trimEnd()}…` : name.slice(0, 11) + '…';
  }
  return `${name}${rest}`;
}

/** `12/500 done · 3 running · 1 failed`: a compact step's hosts at a glance. */
function progress(s: StepView): string {
  let done = 0;
  let running = 0;
  let bad = 0;
  for (const h of s.hosts.values()) {
    if (h.phase === 'done') done++;
    if (h.phase === 'running') running++;
    if (hostFailure(h) !== null) bad++;
  }
  return [`${done}/${s.hosts.size} done`, running ? `${running} running` : '', bad ? `${bad} failed` : ''].filter(Boolean).join(' · ');
}
