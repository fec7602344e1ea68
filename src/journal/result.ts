// result.json: the run's outcome for machines (alert hooks, CI), computed from the events alone
// by a pure fold, so the same function serves a live run (ResultSink) and a journal read back
// after a crash (a journal without run-end reads as interrupted).
import { join } from 'node:path';
import type { EventSink, FinalHostStatus, HostStatus, RunEvent, RunMode, RunOutcome, RunScope } from '../engine/events.js';
import { JournalSummarizer, type StepSummaryStatus } from '../engine/journal-fold.js';
import { StepLedger } from '../engine/ledger.js';
import { EXIT } from '../errors.js';
import type { Redactor } from '../redact/redactor.js';
import { writeJsonAtomic } from './atomic.js';
import { RUN_FILES } from './run-dir.js';

type Ev<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;

export interface ResultHostStep {
  status: HostStatus | 'started';
  exitCode: number | null;
  attempt: number;
  durationMs: number;
  changed: boolean;
  error?: string | undefined;
  reason?: string | undefined;
}

export interface ResultStep {
  id: string;
  name: string;
  mutates: boolean;
  /** 'interrupted': the journal ends while the step was running. */
  status: Exclude<StepSummaryStatus, 'started'> | 'interrupted';
  hosts: Record<string, ResultHostStep>;
  durationMs: number;
  rollbackOf?: string | undefined;
  skipReason?: string | undefined;
}

export interface ResultDecision {
  step: string;
  cause: string;
  evidence: Ev<'decision'>['evidence'];
  candidates: string[];
  override?: { from: string; operator: string } | undefined;
  /** The operator who answered the cause prompt (accepted or overrode); absent when nobody was asked. */
  confirmedBy?: string | undefined;
}

/** A decision event as result.json and the report keep it. */
export function resultDecision(ev: Ev<'decision'>): ResultDecision {
  return {
    step: ev.step,
    cause: ev.cause,
    evidence: ev.evidence,
    candidates: ev.candidates,
    override: ev.override,
    ...(ev.confirmedBy !== undefined ? { confirmedBy: ev.confirmedBy } : {}),
  };
}

export interface ResultArtifact {
  host: string;
  step: string;
  path: string;
  bytes: number;
  sha256: string;
}

export interface RunResultJson {
  runbook: string | null;
  outcome: RunOutcome;
  cause: string | null;
  exitCode: number;
  planHash: string | null;
  /** The latest segment's run id; `runIds` lists every segment (resumed runs), oldest first. */
  runId: string | null;
  runIds: string[];
  mode: RunMode | null;
  startedAt: string | null;
  endedAt: string | null;
  /** Time spent running, summed over segments (a resume the next day does not count the gap). */
  durationMs: number;
  /** The latest segment's operator; `segments` keeps each one's (a resume by someone else). */
  operator: string | null;
  /**
   * null: the run covered every host the runbook targets. Set when --limit left hosts out: the
   * verdict covers only `hosts`; `excluded` were not looked at (a hook must not read exit 0 as fleet-wide).
   */
  scope: RunScope | null;
  /** Each segment of the run (the first run, then every resume), with who ran it. */
  segments: { runId: string; startedAt: string; mode: RunMode; operator: string; user: string }[];
  message: string | null;
  /** False when the journal ends without a run-end (the controller was killed). */
  complete: boolean;
  hosts: Record<string, { status: FinalHostStatus }>;
  steps: ResultStep[];
  decision: ResultDecision | null;
  artifacts: ResultArtifact[];
}

/** Incremental: add events as they arrive, ask for the result at any time. */
export class ResultBuilder {
  readonly #summary = new JournalSummarizer();
  #runEnd: Ev<'run-end'> | null = null;
  #message: string | null = null;
  #decision: ResultDecision | null = null;
  readonly #artifacts: ResultArtifact[] = [];
  /** Per host, for the fallback when no run-end names final statuses. */
  readonly #unreachable = new Set<string>();
  readonly #attempted = new Set<string>();
  /** Last final status per (step, host): failed when it failed and never passed later. */
  readonly #lastFinal = new Map<string, HostStatus>();
  /** What each step did per host: hosts whose needed fix was declined are not remediated. */
  readonly #ledger = new StepLedger();
  readonly #segments: RunResultJson['segments'] = [];
  #segmentStart: number | null = null;
  #lastTime: number | null = null;
  #doneSegmentsMs = 0;
  #endedAt: string | null = null;
  #scope: RunScope | null = null;

  add(ev: RunEvent): void {
    if (ev.type === 'host-output') return;
    this.#summary.add(ev);
    this.#ledger.add(ev);
    const t = Date.parse(ev.time);
    switch (ev.type) {
      case 'run-start':
        this.#segments.push({ runId: ev.runId, startedAt: ev.time, mode: ev.mode, operator: ev.operator, user: ev.user });
        this.#closeSegment(null);
        this.#segmentStart = t;
        this.#scope = ev.scope ?? null;
        this.#runEnd = null;
        this.#message = null;
        break;
      case 'host-end':
        if (ev.attempt > 0) this.#attempted.add(ev.host);
        if (ev.final === true) {
          this.#lastFinal.set(`${ev.step}\u0000${ev.host}`, ev.status);
          if (ev.status === 'unreachable') this.#unreachable.add(ev.host);
        }
        for (const a of ev.artifacts ?? []) this.#artifacts.push({ host: ev.host, step: ev.step, ...a });
        break;
      case 'bundle':
        // Written on the controller: listed with the fetched files, so reports link it.
        this.#artifacts.push({ host: 'controller', step: ev.step, path: ev.path, bytes: ev.bytes, sha256: ev.sha256 });
        break;
      case 'decision':
        this.#decision = resultDecision(ev);
        break;
      case 'run-end':
        this.#runEnd = ev;
        this.#message = ev.message ?? null;
        this.#closeSegment(ev.durationMs);
        this.#endedAt = ev.time;
        break;
      default:
        break;
    }
    if (!Number.isNaN(t)) this.#lastTime = t;
  }

  #closeSegment(durationMs: number | null): void {
    if (this.#segmentStart === null) return;
    this.#doneSegmentsMs += durationMs ?? Math.max(0, (this.#lastTime ?? this.#segmentStart) - this.#segmentStart);
    this.#segmentStart = null;
  }

  result(): RunResultJson {
    const s = this.#summary.summary();
    const end = this.#runEnd;
    const complete = end !== null;
    const openSegmentMs = this.#segmentStart !== null ? Math.max(0, (this.#lastTime ?? this.#segmentStart) - this.#segmentStart) : 0;
    const outcome: RunOutcome = end?.outcome ?? 'interrupted';
    const hosts: RunResultJson['hosts'] = {};
    for (const h of s.hosts) hosts[h] = { status: end?.hosts?.[h] ?? this.#fallbackStatus(h) };
    const open = new Set(s.unfinishedSteps);
    return {
      runbook: s.runbook,
      outcome,
      cause: end ? end.cause : s.cause,
      exitCode: end?.exitCode ?? EXIT.interrupted,
      planHash: s.planHash,
      runId: s.runIds.at(-1) ?? null,
      runIds: s.runIds,
      mode: s.mode,
      startedAt: s.startedAt,
      endedAt: this.#endedAt !== null && complete ? this.#endedAt : this.#lastTime !== null ? new Date(this.#lastTime).toISOString() : null,
      durationMs: Math.round(this.#doneSegmentsMs + openSegmentMs),
      operator: s.operator,
      scope: this.#scope,
      segments: this.#segments.map((x) => ({ ...x })),
      message: complete ? this.#message : 'the journal ends without a run-end event: the controller stopped during the run',
      complete,
      hosts,
      steps: s.steps.map((st) => ({
        id: st.id,
        name: st.name,
        mutates: st.mutates,
        status: open.has(st.id) || st.status === 'started' ? 'interrupted' : st.status,
        hosts: Object.fromEntries(
          Object.values(st.hosts).map((h) => [
            h.host,
            { status: h.status, exitCode: h.exitCode, attempt: h.attempt, durationMs: h.durationMs, changed: h.changed, error: h.error, reason: h.reason },
          ]),
        ),
        durationMs: st.durationMs,
        rollbackOf: st.rollbackOf,
        skipReason: st.skipReason,
      })),
      decision: this.#decision,
      artifacts: [...this.#artifacts],
    };
  }

  /** The executor's rule (RunState.finalStatus), for journals whose run-end is missing. */
  #fallbackStatus(host: string): FinalHostStatus {
    if (this.#unreachable.has(host)) return 'unreachable';
    for (const [key, status] of this.#lastFinal) {
      if (key.endsWith(`\u0000${host}`) && (status === 'failed' || status === 'timed-out')) return 'failed';
    }
    if (this.#ledger.declinedFor(host).length > 0) return 'not-remediated';
    return this.#attempted.has(host) ? 'ok' : 'skipped';
  }
}

/** result.json's content for a sequence of events (pure). */
export function buildResult(events: readonly RunEvent[]): RunResultJson {
  const b = new ResultBuilder();
  for (const ev of events) b.add(ev);
  return b.result();
}

export function writeResult(dir: string, result: RunResultJson, redactor?: Redactor | undefined): void {
  writeJsonAtomic(join(dir, RUN_FILES.result), redactor ? redactor.redactValue(result) : result);
}

/** Builds result.json as events arrive and writes it (atomically) on close. */
export class ResultSink implements EventSink {
  readonly #dir: string;
  readonly #redactor: Redactor | undefined;
  readonly #builder = new ResultBuilder();
  #closed = false;

  constructor(dir: string, redactor?: Redactor | undefined) {
    this.#dir = dir;
    this.#redactor = redactor;
  }

  write(event: RunEvent): void {
    this.#builder.add(event);
  }

  get result(): RunResultJson {
    return this.#builder.result();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    writeResult(this.#dir, this.#builder.result(), this.#redactor);
  }
}
