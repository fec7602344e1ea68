// What a report says, independent of how it is written (markdown, HTML, JSON): built from the
// journal's events, the result they fold into, and plan.json when present.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ApprovalDecision, ApprovalSource, HostStatus, RunEvent, RunMode } from '../engine/events.js';
import type { JournalProblem } from './journal.js';
import {
  buildCommands,
  buildEvidence,
  buildPhases,
  buildSummary,
  type EvidenceBlock,
  type Phase,
  type ReportSummary,
  type StepCommands,
} from './report-handover.js';
import { buildResult, resultDecision, type ResultArtifact, type ResultDecision, type RunResultJson } from './result.js';

type Ev<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;

/** The part of plan.json a report reads (tolerant: any field may be missing in an old plan). */
export interface PlanSummaryForReport {
  summary?: string | undefined;
  params?: Record<string, unknown> | undefined;
  steps?: { id: string; name?: string; kind?: string; mutates?: boolean; whenText?: string | null }[] | undefined;
  causes?: string[] | undefined;
}

export interface TimelineAttempt {
  time: string;
  status: HostStatus;
  attempt: number;
  iteration?: number | undefined;
  phase?: 'verify' | undefined;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  final: boolean;
  error?: string | undefined;
  reason?: string | undefined;
  outputs?: { stdout: string; stderr: string } | undefined;
  facts?: Record<string, unknown> | undefined;
}

export interface TimelineHost {
  host: string;
  /** Every recorded attempt (retries, repeats, verification), in order. */
  attempts: TimelineAttempt[];
  /** Started with no host-end after it: the controller stopped meanwhile. */
  unfinished: boolean;
}

export interface TimelineStep {
  id: string;
  name: string;
  kind: string | null;
  mutates: boolean;
  time: string;
  status: 'ok' | 'failed' | 'skipped' | 'partial' | 'interrupted';
  durationMs: number | null;
  batches?: number | undefined;
  rollbackOf?: string | undefined;
  skipReason?: string | undefined;
  next?: string | null | undefined;
  /** What a decide step concluded, what an outcome step said. */
  decided?: string | undefined;
  outcome?: { status: string; message: string } | undefined;
  hosts: TimelineHost[];
}

export interface ReportApproval {
  time: string;
  step: string;
  decision: ApprovalDecision;
  source: ApprovalSource;
  operator: string;
  hosts: string[];
  batch?: number | undefined;
  /** The operator's reason, as journaled (a denial from the console always has one). */
  comment?: string | undefined;
  commands: { host: string; command: string }[];
  diffs: Record<string, string>;
}

export interface ReportChange {
  step: string;
  name: string;
  host: string;
  status: HostStatus;
  /** The properties diff applied (or previewed at approval), when there is one. */
  diff: string | null;
}

export interface ReportModel {
  /** Read first: outcome, cause, per-host status, what changed, what is left for people. */
  summary: ReportSummary;
  /** Run start → evidence gathered → cause decided → fix applied → verified. */
  phases: Phase[];
  /** Output lines the runbook marks as evidence, per step and host (cut to its max_lines). */
  evidence: EvidenceBlock[];
  /** The rendered (redacted) command each step ran per host, identical ones grouped. */
  commands: StepCommands[];
  result: RunResultJson;
  run: {
    runIds: string[];
    mode: RunMode | null;
    user: string | null;
    controller: string | null;
    params: Record<string, unknown>;
    hosts: string[];
    resumed: boolean;
  };
  plan: PlanSummaryForReport | null;
  diagnosis: (ResultDecision & { time: string }) | null;
  timeline: TimelineStep[];
  approvals: ReportApproval[];
  changes: ReportChange[];
  artifacts: (ResultArtifact & { present: boolean })[];
  rollbacks: { time: string; step: string; host: string; reason: string }[];
  outcomes: { time: string; step: string; status: string; message: string }[];
  locks: { time: string; host: string; action: string; detail?: string | undefined }[];
  warnings: { time: string; step?: string | undefined; host?: string | undefined; message: string }[];
  /** Lines of the journal that could not be read. */
  journalProblems: JournalProblem[];
}

export function buildReportModel(
  events: readonly RunEvent[],
  options: { plan?: PlanSummaryForReport | null; runDir?: string | undefined; journalProblems?: JournalProblem[] } = {},
): ReportModel {
  const result = buildResult(events);
  const starts = events.filter((e): e is Ev<'run-start'> => e.type === 'run-start');
  const latest = starts.at(-1);
  const hostOrder = latest?.hosts ?? [];
  const model: ReportModel = {
    summary: {
      outcome: result.outcome,
      exitCode: result.exitCode,
      cause: result.cause,
      message: result.message,
      hosts: [],
      changed: [],
      leftForPeople: [],
      decisions: [],
    },
    phases: buildPhases(events, result),
    evidence: buildEvidence(events, hostOrder),
    commands: buildCommands(events, hostOrder),
    result,
    run: {
      runIds: result.runIds,
      mode: latest?.mode ?? null,
      user: latest?.user ?? null,
      controller: latest?.controller ?? null,
      params: latest?.params ?? {},
      hosts: latest?.hosts ?? [],
      resumed: starts.length > 1 || latest?.resumedFrom !== undefined,
    },
    plan: options.plan ?? null,
    diagnosis: null,
    timeline: [],
    approvals: [],
    changes: [],
    artifacts: result.artifacts.map((a) => ({ ...a, present: options.runDir === undefined ? true : artifactPresent(options.runDir, a) })),
    rollbacks: [],
    outcomes: [],
    locks: [],
    warnings: [],
    journalProblems: options.journalProblems ?? [],
  };
  const planSteps = new Map((options.plan?.steps ?? []).map((s) => [s.id, s]));
  const current = new Map<string, TimelineStep>();
  const entryFor = (stepId: string, time: string): TimelineStep => {
    let entry = current.get(stepId);
    if (!entry) {
      const p = planSteps.get(stepId);
      entry = {
        id: stepId,
        name: p?.name ?? stepId,
        kind: p?.kind ?? null,
        mutates: p?.mutates ?? false,
        time,
        status: 'interrupted',
        durationMs: null,
        hosts: [],
      };
      current.set(stepId, entry);
      model.timeline.push(entry);
    }
    return entry;
  };
  const hostFor = (entry: TimelineStep, host: string): TimelineHost => {
    let h = entry.hosts.find((x) => x.host === host);
    if (!h) {
      h = { host, attempts: [], unfinished: false };
      entry.hosts.push(h);
    }
    return h;
  };
  const approvalDiffs = new Map<string, string>();

  for (const ev of events) {
    switch (ev.type) {
      case 'step-start': {
        // A new visit (first batch, a goto back, a resumed run) starts a new timeline entry.
        const open = current.get(ev.step);
        if (!open || ev.batch === undefined || ev.batch === 1 || open.status !== 'interrupted') {
          const entry: TimelineStep = {
            id: ev.step,
            name: ev.name,
            kind: ev.kind,
            mutates: ev.mutates,
            time: ev.time,
            status: 'interrupted',
            durationMs: null,
            batches: ev.batches,
            rollbackOf: ev.rollbackOf,
            hosts: [],
          };
          current.set(ev.step, entry);
          model.timeline.push(entry);
        }
        break;
      }
      case 'step-skip': {
        // Emitted instead of a step-start: the step did not run at all on this visit.
        const p = planSteps.get(ev.step);
        const entry: TimelineStep = {
          id: ev.step,
          name: p?.name ?? ev.step,
          kind: p?.kind ?? null,
          mutates: p?.mutates ?? false,
          time: ev.time,
          status: 'skipped',
          durationMs: 0,
          skipReason: ev.reason,
          hosts: [],
        };
        current.set(ev.step, entry);
        model.timeline.push(entry);
        break;
      }
      case 'step-end': {
        const entry = entryFor(ev.step, ev.time);
        entry.status = ev.status;
        entry.durationMs = ev.durationMs;
        entry.next = ev.next;
        break;
      }
      case 'host-start': {
        const h = hostFor(entryFor(ev.step, ev.time), ev.host);
        h.unfinished = true;
        break;
      }
      case 'host-end': {
        const entry = entryFor(ev.step, ev.time);
        const h = hostFor(entry, ev.host);
        h.unfinished = false;
        h.attempts.push({
          time: ev.time,
          status: ev.status,
          attempt: ev.attempt,
          iteration: ev.iteration,
          phase: ev.phase,
          exitCode: ev.exitCode,
          signal: ev.signal,
          durationMs: ev.durationMs,
          final: ev.final === true,
          error: ev.error,
          reason: ev.reason,
          outputs: ev.outputs,
          facts: ev.facts,
        });
        if (ev.status === 'changed' || ev.diff) {
          const existing = model.changes.find((c) => c.step === ev.step && c.host === ev.host);
          const diff = ev.diff ?? approvalDiffs.get(`${ev.step}\u0000${ev.host}`) ?? null;
          if (existing) Object.assign(existing, { status: ev.status, diff: diff ?? existing.diff });
          else model.changes.push({ step: ev.step, name: entry.name, host: ev.host, status: ev.status, diff });
        }
        break;
      }
      case 'decision':
        model.diagnosis = { time: ev.time, ...resultDecision(ev) };
        entryFor(ev.step, ev.time).decided = ev.cause;
        break;
      case 'approval':
        model.approvals.push({
          time: ev.time,
          step: ev.step,
          decision: ev.decision,
          source: ev.source,
          operator: ev.operator,
          hosts: ev.hosts,
          batch: ev.batch,
          ...(ev.comment ? { comment: ev.comment } : {}),
          commands: ev.commands ?? [],
          diffs: ev.diffs ?? {},
        });
        for (const [host, diff] of Object.entries(ev.diffs ?? {})) approvalDiffs.set(`${ev.step}\u0000${host}`, diff);
        break;
      case 'rollback':
        model.rollbacks.push({ time: ev.time, step: ev.step, host: ev.host, reason: ev.reason });
        break;
      case 'outcome':
        model.outcomes.push({ time: ev.time, step: ev.step, status: ev.status, message: ev.message });
        entryFor(ev.step, ev.time).outcome = { status: ev.status, message: ev.message };
        break;
      case 'lock':
        model.locks.push({ time: ev.time, host: ev.host, action: ev.action, detail: ev.detail });
        break;
      case 'warning':
        model.warnings.push({ time: ev.time, step: ev.step, host: ev.host, message: ev.message });
        break;
      default:
        break;
    }
  }
  const d = model.diagnosis;
  const override = d?.override ? { time: d.time, step: d.step, cause: d.cause, from: d.override.from, operator: d.override.operator } : null;
  model.summary = buildSummary({
    result,
    hostOrder,
    changes: model.changes,
    approvals: model.approvals,
    artifacts: model.artifacts,
    outcomes: model.outcomes,
    override,
    accepted: d && !d.override && d.confirmedBy !== undefined ? { time: d.time, step: d.step, cause: d.cause, operator: d.confirmedBy } : null,
  });
  return model;
}

function artifactPresent(runDir: string, a: ResultArtifact): boolean {
  const p = join(runDir, a.path);
  try {
    return existsSync(p) && statSync(p).size === a.bytes;
  } catch {
    return false;
  }
}
