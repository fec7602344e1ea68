// The executor: applies a Plan over transports, one step after the other, each step on its hosts
// in parallel. Unattended, guided and probe runs are strategies over this one loop. Everything
// it does leaves as events (journal, console, jsonl); it returns the run's outcome and exit code.
import { hostname, userInfo } from 'node:os';
import { EXIT, RefusedError, RemedyError, InterruptedError } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import { nextStepIndex } from '../plan/step-graph.js';
import type { Plan, PlanStep } from '../plan/types.js';
import { Redactor } from '../redact/redactor.js';
import { actionFor } from './actions/registry.js';
import { Conditions } from './conditions.js';
import { errorMessage, runtimeFor, type Engine, type TransportSource } from './context.js';
import { Emitter, type NoticeRelay } from './emitter.js';
import { scopeSentence, type EventSink, type FinalHostStatus, type RunOutcome, type RunScope } from './events.js';
import type { RunEnding, StepFlow } from './flow.js';
import { runHostStep } from './host-step.js';
import type { HostLeases } from './lease.js';
import { releaseHeldLocks } from './lock.js';
import { OutputStore } from './outputs.js';
import { previewFrom, type ProbeStepPreview } from './preview.js';
import { applyResumePoint, type ResumePoint } from './resume-point.js';
import { RunState } from './state.js';
import type { Strategy } from './strategy.js';
import { systemClock, type Clock } from './timing.js';

export const DEFAULT_FORKS = 50;
/** A goto loop that visits one step this often is a runbook bug, not a remediation. */
const MAX_VISITS = 100;

export interface ExecuteOptions {
  plan: Plan;
  inventory: Inventory;
  transports: TransportSource;
  strategy: Strategy;
  /** Where events go (journal, console, jsonl); the caller closes them. */
  sinks: EventSink[];
  runId: string;
  /** outputs/ and artifacts/ go here; null keeps nothing on disk (probe without --run-dir). */
  runDir: string | null;
  /** false: command outputs are not written to the run dir (remedy test keeps only artifacts). */
  keepOutputs?: boolean | undefined;
  /** The OS user (default: the current user). The operator's name comes from the strategy. */
  user?: string | undefined;
  controller?: string | undefined;
  forks?: number | undefined;
  /** --plan-hash: refuse before connecting when the plan differs from the approved one. */
  expectedPlanHash?: string | undefined;
  breakLock?: boolean | undefined;
  /** Aborted on the first Ctrl-C: nothing new starts, running commands finish. */
  signal?: AbortSignal | undefined;
  /** Aborted on the second Ctrl-C: running commands are killed. */
  killSignal?: AbortSignal | undefined;
  clock?: Clock | undefined;
  resume?: ResumePoint | undefined;
  /** Notices from the transports (host keys recorded…), journaled as warnings. */
  notices?: NoticeRelay | undefined;
  /** Host leases with fencing tokens, taken with the host locks (remedy serve's workers). */
  leases?: HostLeases | undefined;
}

export interface RunResult {
  runId: string;
  runbook: string;
  planHash: string;
  outcome: RunOutcome;
  exitCode: number;
  cause: string | null;
  message?: string | undefined;
  hosts: Record<string, FinalHostStatus>;
  /** Facts gathered, per host, redacted. */
  facts: Record<string, Record<string, unknown>>;
  /** Probe runs: the step the preview starts at (null: no mutation would run) and the previews. */
  probe?: { stoppedAt: string | null; steps: ProbeStepPreview[] } | undefined;
}

export const OUTCOME_EXIT: Record<RunOutcome, number> = {
  resolved: EXIT.ok,
  'nothing-to-do': EXIT.ok,
  escalated: EXIT.escalated,
  failed: EXIT.failed,
  refused: EXIT.refused,
  interrupted: EXIT.interrupted,
  unreachable: EXIT.unreachable,
};

export function checkPlanHash(plan: Plan, expected: string | undefined): void {
  if (expected !== undefined && expected !== plan.planHash) {
    throw new RefusedError(
      `the plan's hash is ${plan.planHash}, not the approved ${expected}: the runbook, inventory or params changed since the plan was approved`,
    );
  }
}

export async function executePlan(options: ExecuteOptions): Promise<RunResult> {
  const { plan } = options;
  checkPlanHash(plan, options.expectedPlanHash);
  const redactor = new Redactor(plan.secrets);
  const state = new RunState();
  state.steps.configure({ skippable: plan.steps.filter((s) => s.skippable).map((s) => s.id), hostOrder: plan.hosts });
  // The run state learns what each step did from the same events every sink sees.
  const ledgerSink: EventSink = { write: (ev) => state.steps.add(ev), close: async () => undefined };
  const emitter = new Emitter([ledgerSink, ...options.sinks], redactor, options.resume?.lastSeq ?? 0);
  const never = new AbortController().signal;
  // What templates and conditions see at run time needs only the run's own record, so the
  // conditions exist before the engine that holds them.
  const run = { plan, inventory: options.inventory, state, runId: options.runId, runDir: options.runDir };
  const e: Engine = {
    ...run,
    transports: options.transports,
    strategy: options.strategy,
    emitter,
    conditions: new Conditions(options.inventory, state, (host, step) => runtimeFor(run, host, step)),
    clock: options.clock ?? systemClock,
    outputs: new OutputStore(options.keepOutputs === false ? null : options.runDir, redactor),
    previousRunIds: options.resume?.previousRunIds ?? [],
    forks: Math.max(1, options.forks ?? DEFAULT_FORKS),
    stop: options.signal ?? never,
    kill: options.killSignal ?? never,
    breakLock: options.breakLock ?? false,
    controller: options.controller ?? hostname(),
    pid: process.pid,
    approvedEarlier: new Map(),
    leases: options.leases ?? null,
  };
  let startIndex = 0;
  if (options.resume) startIndex = applyResumePoint(e, options.resume);
  // A second Ctrl-C kills running commands; the first one must at least stop scheduling.
  if (options.killSignal && !options.signal) e.stop = options.killSignal;

  const started = e.clock.now();
  emitter.emit({
    type: 'run-start',
    runId: options.runId,
    runbook: plan.runbook,
    planHash: plan.planHash,
    mode: options.strategy.mode,
    operator: options.strategy.operator,
    user: options.user ?? safeUser(),
    controller: e.controller,
    params: plan.params,
    hosts: plan.hosts,
    runDir: options.runDir ?? '',
    resumedFrom: options.resume?.resumedFrom,
    scope: runScope(plan),
  });
  for (const w of options.resume?.warnings ?? []) emitter.emit({ type: 'warning', message: w });
  options.notices?.attach((message, host) => emitter.emit({ type: 'warning', message, host }));

  // A resumed run whose earlier segment already reached its outcome step ends with that outcome.
  let ending: RunEnding | null = options.resume?.ending ?? null;
  let probeStop: number | null = null;
  let fatal: unknown = null;
  try {
    const visits = new Map<string, number>();
    let index = startIndex;
    while (index < plan.steps.length) {
      if (e.stop.aborted) {
        ending = { outcome: 'interrupted' };
        break;
      }
      const step = plan.steps[index] as PlanStep;
      const seen = (visits.get(step.id) ?? 0) + 1;
      visits.set(step.id, seen);
      if (seen > MAX_VISITS) {
        ending = { outcome: 'failed', step: step.id, message: `step ${step.id} reached ${MAX_VISITS} times: a goto loop` };
        break;
      }
      const nextId = plan.steps[index + 1]?.id ?? null;
      const resumeHere = options.resume && index === startIndex ? options.resume.step : undefined;
      const flow: StepFlow = await runStep(e, step, nextId, resumeHere);
      if (flow.kind === 'end') {
        ending = flow.ending;
        break;
      }
      if (flow.kind === 'probe-stop') {
        probeStop = index;
        break;
      }
      // The same transition function `remedy graph` draws with (step-graph.ts).
      const next = nextStepIndex(plan, index, flow);
      if ('missing' in next) {
        ending = { outcome: 'failed', step: step.id, message: `on_failure goto ${next.missing}: no such step` };
        break;
      }
      index = next.index;
    }
  } catch (err) {
    if (err instanceof InterruptedError) ending = { outcome: 'interrupted', message: err.message };
    else {
      fatal = err;
      ending = { outcome: 'failed', message: err instanceof RemedyError ? err.message : `internal error: ${errorMessage(err)}` };
    }
  } finally {
    await releaseHeldLocks(e);
  }

  let probe: RunResult['probe'];
  // A strategy that stops before mutations (probe) gets the rest of the plan previewed.
  if (options.strategy.stopsBeforeMutation) {
    probe = { stoppedAt: probeStop === null ? null : (plan.steps[probeStop] as PlanStep).id, steps: probeStop === null ? [] : await previewFrom(e, probeStop) };
    if (probeStop !== null)
      ending = {
        outcome: 'refused',
        step: probe.stoppedAt ?? undefined,
        message: `probe: stopped before the first mutating step that would run (${probe.stoppedAt})`,
      };
  }
  const final = finalOutcome(e, ending);
  const { outcome } = final;
  // A run whose --limit left hosts out says so in its verdict: exit 0 is not fleet-wide.
  const scope = runScope(plan);
  const message =
    scope && outcome !== 'refused' && outcome !== 'interrupted' ? [final.message, scopeSentence(scope)].filter((m) => m).join(' ') : final.message;
  const exitCode = OUTCOME_EXIT[outcome];
  const hosts = Object.fromEntries(plan.hosts.map((h) => [h, state.finalStatus(h)]));
  options.notices?.attach(null);
  emitter.emit({ type: 'run-end', outcome, cause: state.cause, exitCode, durationMs: Math.round(e.clock.now() - started), message, hosts });
  if (fatal !== null && !(fatal instanceof RemedyError)) throw fatal;
  return {
    runId: options.runId,
    runbook: plan.runbook,
    planHash: plan.planHash,
    outcome,
    exitCode,
    cause: state.cause,
    message: message === undefined ? undefined : redactor.redact(message),
    hosts,
    facts: redactor.redactValue(Object.fromEntries(state.facts)),
    probe,
  };
}

/** A step by its action: once on the controller, or coordinated over its hosts (host-step.ts). */
async function runStep(e: Engine, step: PlanStep, nextId: string | null, resume: ResumePoint['step'] | undefined): Promise<StepFlow> {
  const action = actionFor(step);
  if (action.on === 'controller') return action.execute(e, step, nextId);
  return runHostStep(e, step, { nextId, resume });
}

/**
 * The run's outcome. Explicit endings win (interrupted, refused, a failure that aborted), except
 * that a run which reached no host at all is `unreachable`, and a `resolved`/`nothing-to-do`
 * outcome step cannot hide hosts that failed along the way.
 */
function finalOutcome(e: Engine, ending: RunEnding | null): { outcome: RunOutcome; message?: string | undefined } {
  const { state } = e;
  if (ending?.outcome === 'interrupted' || ending?.outcome === 'refused') return { outcome: ending.outcome, message: ending.message };
  if (state.attempted.size > 0 && state.reached.size === 0) {
    return {
      outcome: 'unreachable',
      message: `no host could be reached (${[...state.unreachable].join(', ')})${ending?.message ? `; ${ending.message}` : ''}`,
    };
  }
  if (ending !== null && ending.outcome !== 'resolved' && ending.outcome !== 'nothing-to-do') return { outcome: ending.outcome, message: ending.message };
  if (state.failed.size > 0) {
    const failed = `failed on ${[...state.failed].join(', ')}`;
    return { outcome: 'failed', message: ending?.message ? `${ending.message}; but the run ${failed}` : `the run ${failed}` };
  }
  // An all-clear needs something that worked: when every command the run tried failed (each
  // tolerated by `on_failure: continue`), nothing was seen to be fine.
  const tried = e.plan.steps.map((s) => state.steps.view(s.id)).filter((v) => Object.keys(v.hosts).length > 0);
  const anySucceeded = tried.some((v) => v.ok.length > 0);
  const anyFailed = tried.some((v) => v.failed.length > 0 || v.unreachable.length > 0);
  if (anyFailed && !anySucceeded) {
    const said = ending?.message ? ` (the runbook would have said: ${ending.message})` : '';
    return { outcome: 'failed', message: `every command the run tried failed (tolerated by on_failure), so nothing was seen to work${said}` };
  }
  // Hosts whose needed fix was declined or never approved may still be broken: no all-clear.
  const notRemediated = e.plan.hosts.filter((h) => state.finalStatus(h) === 'not-remediated');
  if (notRemediated.length > 0) {
    const which = notRemediated.map((h) => `${h} (${state.steps.declinedFor(h).join(', ')})`).join(', ');
    const why = `not remediated: ${which}: the fix they needed was not approved, so they may still be broken`;
    return { outcome: 'escalated', message: ending?.message ? `${ending.message}; but ${why}` : `${why[0]?.toUpperCase()}${why.slice(1)}` };
  }
  // Hosts where a step failed and the run went on past it (on_failure: continue, or skipped at the
  // failure prompt): what that step would have shown was not seen, so no all-clear rests on them.
  const unvouched = e.plan.hosts.filter((h) => !state.failed.has(h) && state.failedTolerated(h));
  if (unvouched.length > 0) {
    const which = unvouched.map((h) => `${h} (${state.steps.toleratedFor(h).join(', ')})`).join(', ');
    const why = `steps failed on ${which} and the run went on past them: what they would have shown was not seen, so this run cannot say those hosts are fine`;
    return { outcome: 'escalated', message: ending?.message ? `${ending.message}; but ${why}` : `${why[0]?.toUpperCase()}${why.slice(1)}` };
  }
  if (ending !== null) return { outcome: ending.outcome, message: ending.message };
  // A diagnosis named a cause, yet its path ended without an outcome step: nothing in the runbook
  // said the cause was dealt with, so neither "nothing to do" nor "resolved" was seen.
  if (state.cause !== null) {
    const did = state.changed ? 'changes were made, but nothing verified that they dealt with it' : 'nothing was changed';
    return {
      outcome: 'escalated',
      message: `The diagnosis decided cause ${state.cause}, but its path ended without reaching an outcome step: no outcome was reached (${did}). A person must look.`,
    };
  }
  return { outcome: state.changed ? 'resolved' : 'nothing-to-do' };
}

/** The run's scope when --limit left out hosts the runbook targets, else undefined (the whole fleet). */
function runScope(plan: Plan): RunScope | undefined {
  if (!plan.limit || plan.limit.excluded.length === 0) return undefined;
  return { limit: plan.limit.pattern, hosts: plan.hosts, excluded: plan.limit.excluded };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}
