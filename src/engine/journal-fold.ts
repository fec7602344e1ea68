// What a journal says happened, folded once per step and host: the last known status of every
// (step, host), the facts and cause gathered, the outcome, the hosts that left the run, the
// locks still held, and which (step, host) started without finishing. The one fold of the run's
// events: resume (resume-point.ts) and result.json / the reports (src/journal/) read runs through it.
import type { ApprovalSource, HostStatus, RunEvent, RunMode, RunOutcome } from './events.js';
import type { DropReason } from './state.js';

type Ev<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;

/** One host's progress in one step, as last recorded. */
export interface HostStepSummary {
  step: string;
  host: string;
  /** Last recorded status; 'started' when a host-start has no host-end after it. */
  status: HostStatus | 'started';
  /** The host finished the step (its last host-end was final). */
  final: boolean;
  attempt: number;
  iteration?: number | undefined;
  phase?: 'verify' | undefined;
  exitCode: number | null;
  /** Sum of the attempts' durations. */
  durationMs: number;
  /** Any attempt changed something (status 'changed'). */
  changed: boolean;
  facts?: Record<string, unknown> | undefined;
  error?: string | undefined;
  reason?: string | undefined;
  /** seq of the last event about this (step, host). */
  lastSeq: number;
}

export type StepSummaryStatus = 'started' | 'ok' | 'failed' | 'skipped' | 'partial';

export interface StepSummary {
  id: string;
  name: string;
  kind: string | null;
  mutates: boolean;
  /** Last known status: 'started' until its step-end (or step-skip) is recorded. */
  status: StepSummaryStatus;
  /** How many times the step was entered (goto loops, resumed runs). */
  visits: number;
  durationMs: number;
  rollbackOf?: string | undefined;
  skipReason?: string | undefined;
  hosts: Record<string, HostStepSummary>;
  /**
   * The latest visit alone (from its step-start, first batch): per host, the last thing recorded
   * (a host-start with no host-end after it is unfinished), and the visit's step-end if it has one.
   */
  visit: { hosts: Record<string, { status: HostStatus; final: boolean }>; end: { status: StepSummaryStatus; next?: string | null | undefined } | null };
}

export interface JournalSummary {
  /** Run ids, oldest first: a resumed run appends a new segment with its own id. */
  runIds: string[];
  runbook: string | null;
  planHash: string | null;
  mode: RunMode | null;
  operator: string | null;
  hosts: string[];
  startedAt: string | null;
  /** seq of the last event (a resumed run continues the numbering). */
  lastSeq: number;
  /** The latest segment recorded its run-end. */
  ended: boolean;
  outcome: RunOutcome | null;
  exitCode: number | null;
  cause: string | null;
  /** Facts per host, merged in journal order. */
  facts: Record<string, Record<string, unknown>>;
  /** Steps in the order first seen. */
  steps: StepSummary[];
  /** (step, host) pairs whose last host-end is not final (or that have no host-end at all). */
  unfinished: { step: string; host: string }[];
  /** Steps started (step-start) with no step-end or step-skip after the last start. */
  unfinishedSteps: string[];
  /** Hosts approved per step, and by which source. */
  approvals: Record<string, { hosts: string[]; sources: ApprovalSource[] }>;
  /** Id of the last step the journal records activity for. */
  lastStep: string | null;
  /** The last step-start (a rollback names the step it undoes). */
  lastStepStart: { step: string; rollbackOf?: string | undefined } | null;
  /** The time of the latest segment's run-start. */
  segmentStartedAt: string | null;
  /** The latest segment's run-end message. */
  endMessage: string | null;
  /** The cause as the decide steps concluded it (decision events only). */
  decided: string | null;
  /** Some host-end recorded a change. */
  changed: boolean;
  /** Hosts that left the run at a step-end (failed, unreachable). */
  left: Record<string, DropReason>;
  /** Hosts step-ends counted as failed. */
  failedHosts: string[];
  /** Hosts a command was started on. */
  attempted: string[];
  /** Hosts that answered (a host-end of a real attempt, not unreachable). */
  reached: string[];
  /** Hosts whose lock was taken and never shown released. */
  heldLocks: string[];
  /** The last outcome step's ending. */
  outcomeStep: { step: string; status: Ev<'outcome'>['status']; message: string } | null;
}

export function summarizeJournal(events: readonly RunEvent[]): JournalSummary {
  const folder = new JournalSummarizer();
  for (const ev of events) folder.add(ev);
  return folder.summary();
}

/** The same fold, one event at a time (a sink can keep a summary without keeping the events). */
export class JournalSummarizer {
  readonly #s: JournalSummary = {
    runIds: [],
    runbook: null,
    planHash: null,
    mode: null,
    operator: null,
    hosts: [],
    startedAt: null,
    lastSeq: 0,
    ended: false,
    outcome: null,
    exitCode: null,
    cause: null,
    facts: {},
    steps: [],
    unfinished: [],
    unfinishedSteps: [],
    approvals: {},
    lastStep: null,
    lastStepStart: null,
    segmentStartedAt: null,
    endMessage: null,
    decided: null,
    changed: false,
    left: {},
    failedHosts: [],
    attempted: [],
    reached: [],
    heldLocks: [],
    outcomeStep: null,
  };
  readonly #failedHosts = new Set<string>();
  readonly #attempted = new Set<string>();
  readonly #reached = new Set<string>();
  readonly #held = new Set<string>();
  readonly #steps = new Map<string, StepSummary>();
  readonly #openSteps = new Set<string>();

  add(ev: RunEvent): void {
    const s = this.#s;
    s.lastSeq = Math.max(s.lastSeq, ev.seq);
    switch (ev.type) {
      case 'run-start':
        onRunStart(s, ev);
        break;
      case 'step-start': {
        const st = this.#step(ev.step);
        Object.assign(st, { name: ev.name, kind: ev.kind, mutates: ev.mutates, status: 'started', rollbackOf: ev.rollbackOf });
        // A rolling step starts once per batch; count the visit once.
        if (ev.batch === undefined || ev.batch === 1) {
          st.visits++;
          st.visit = { hosts: {}, end: null };
        }
        this.#openSteps.add(ev.step);
        s.lastStep = ev.step;
        s.lastStepStart = { step: ev.step, rollbackOf: ev.rollbackOf };
        break;
      }
      case 'step-skip': {
        const st = this.#step(ev.step);
        st.status = 'skipped';
        st.skipReason = ev.reason;
        this.#openSteps.delete(ev.step);
        s.lastStep = ev.step;
        break;
      }
      case 'step-end': {
        const st = this.#step(ev.step);
        st.status = ev.status;
        st.durationMs += ev.durationMs;
        st.visit.end ??= { status: ev.status, next: ev.next };
        this.#openSteps.delete(ev.step);
        for (const [h, why] of Object.entries(ev.left ?? {})) s.left[h] = why;
        for (const h of ev.failedHosts ?? []) this.#failedHosts.add(h);
        break;
      }
      case 'host-start': {
        const h = hostOf(this.#step(ev.step), ev.step, ev.host);
        Object.assign(h, { status: 'started', final: false, attempt: ev.attempt, iteration: ev.iteration, phase: ev.phase, lastSeq: ev.seq });
        this.#step(ev.step).visit.hosts[ev.host] = { status: 'failed', final: false };
        this.#attempted.add(ev.host);
        s.lastStep = ev.step;
        break;
      }
      case 'host-end': {
        const h = hostOf(this.#step(ev.step), ev.step, ev.host);
        Object.assign(h, {
          status: ev.status,
          final: ev.final === true,
          attempt: ev.attempt,
          iteration: ev.iteration,
          phase: ev.phase,
          exitCode: ev.exitCode,
          error: ev.error,
          reason: ev.reason,
          lastSeq: ev.seq,
        });
        h.durationMs += ev.durationMs;
        this.#step(ev.step).visit.hosts[ev.host] = { status: ev.status, final: ev.final === true };
        if (ev.attempt > 0 && ev.status !== 'unreachable') this.#reached.add(ev.host);
        if (ev.status === 'changed') {
          h.changed = true;
          s.changed = true;
        }
        if (ev.facts) {
          h.facts = { ...h.facts, ...ev.facts };
          Object.assign((s.facts[ev.host] ??= {}), ev.facts);
        }
        // Captures a failed command left unset (on_failure: continue): no longer facts of the host.
        for (const name of ev.unsetFacts ?? []) {
          if (h.facts) delete h.facts[name];
          delete s.facts[ev.host]?.[name];
        }
        break;
      }
      case 'decision':
        s.cause = ev.cause;
        s.decided = ev.cause;
        break;
      case 'outcome':
        s.outcomeStep = { step: ev.step, status: ev.status, message: ev.message };
        break;
      case 'lock':
        if (ev.action === 'acquired' || ev.action === 'broken') this.#held.add(ev.host);
        else if (ev.action === 'released') this.#held.delete(ev.host);
        break;
      case 'approval':
        if (ev.decision === 'approved') {
          const a = (s.approvals[ev.step] ??= { hosts: [], sources: [] });
          a.hosts = [...new Set([...a.hosts, ...ev.hosts])];
          if (!a.sources.includes(ev.source)) a.sources.push(ev.source);
        }
        break;
      case 'run-end':
        s.ended = true;
        s.outcome = ev.outcome;
        s.exitCode = ev.exitCode;
        s.endMessage = ev.message ?? null;
        if (ev.cause !== null) s.cause = ev.cause;
        break;
      default:
        break;
    }
  }

  /** The summary so far (a snapshot: later add() calls do not change it). */
  summary(): JournalSummary {
    const s = structuredClone(this.#s);
    s.unfinished = [];
    for (const st of s.steps) {
      for (const h of Object.values(st.hosts)) if (!h.final) s.unfinished.push({ step: st.id, host: h.host });
    }
    s.unfinishedSteps = [...this.#openSteps];
    s.failedHosts = [...this.#failedHosts];
    s.attempted = [...this.#attempted];
    s.reached = [...this.#reached];
    s.heldLocks = [...this.#held];
    return s;
  }

  #step(id: string): StepSummary {
    let st = this.#steps.get(id);
    if (!st) {
      st = { id, name: id, kind: null, mutates: false, status: 'started', visits: 0, durationMs: 0, hosts: {}, visit: { hosts: {}, end: null } };
      this.#steps.set(id, st);
      this.#s.steps.push(st);
    }
    return st;
  }
}

function onRunStart(s: JournalSummary, ev: Ev<'run-start'>): void {
  if (!s.runIds.includes(ev.runId)) s.runIds.push(ev.runId);
  s.runbook = ev.runbook;
  s.planHash ??= ev.planHash;
  s.mode = ev.mode;
  s.operator = ev.operator;
  s.hosts = ev.hosts;
  s.startedAt ??= ev.time;
  s.segmentStartedAt = ev.time;
  // A new segment: the previous one's ending no longer stands.
  s.ended = false;
  s.outcome = null;
  s.exitCode = null;
  s.endMessage = null;
}

function hostOf(st: StepSummary, step: string, host: string): HostStepSummary {
  let h = st.hosts[host];
  if (!h) {
    h = { step, host, status: 'started', final: false, attempt: 0, exitCode: null, durationMs: 0, changed: false, lastSeq: 0 };
    st.hosts[host] = h;
  }
  return h;
}
