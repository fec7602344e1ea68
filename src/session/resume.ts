// Resuming a run from its directory, for any front end: the plan rebuilt from inputs.json (it
// must hash the same), the resume point folded from the journal, and the strategy the run
// started in, read from the journal's run-start (a guided run resumes guided). Nothing here
// depends on which commands a front end happened to load.
import type { MemorySink } from '../engine/emitter.js';
import type { EventSink, RunEvent, RunMode, RunOutcome } from '../engine/events.js';
import type { RunResult } from '../engine/executor.js';
import { resumePointFromEvents, type ResumePoint } from '../engine/resume-point.js';
import { UnattendedStrategy, type Strategy } from '../engine/strategy.js';
import { RefusedError, UsageError } from '../errors.js';
import type { Inventory } from '../inventory/types.js';
import { readJournal, type JournalProblem } from '../journal/journal.js';
import { latestRunEnd, rebuildMissingResultFiles } from '../journal/rebuild.js';
import { openRunDir, readRunInputs, type RunDir, type RunInputs } from '../journal/run-dir.js';
import type { Plan } from '../plan/types.js';
import { parseExtraVars } from '../runbook/index.js';
import type { ConsoleSink } from '../ui/console.js';
import { planWithOverrides } from './inputs.js';
import { osUser, type SessionOptions } from './options.js';
import { runSession, type SessionRequest } from './run-session.js';

/** Outcomes a resume cannot continue (resume-point.ts refuses them too). */
const ENDED_FOR_GOOD: ReadonlySet<RunOutcome> = new Set(['resolved', 'nothing-to-do', 'escalated']);

/** The strategies a run continues in: a probe's run directory continues as an unattended run. */
export type ResumeMode = Exclude<RunMode, 'probe'>;

/** Rebuilds the run's plan from inputs.json (secret params withheld there must be given again). */
export function rebuildPlan(inputs: RunInputs, extraVars: string[]): { plan: Plan; inventory: Inventory } {
  const given = parseExtraVars(extraVars);
  const missing = inputs.withheldParams.filter((p) => given[p] === undefined);
  if (missing.length > 0) {
    throw new UsageError(
      `the run was given secret param${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which a run directory never stores: pass ${missing.map((m) => `-e ${m}=…`).join(' ')} again`,
    );
  }
  const overrides: Record<string, string> = {};
  for (const [k, v] of Object.entries(inputs.overrides)) if (!inputs.withheldParams.includes(k)) overrides[k] = v;
  Object.assign(overrides, given);
  const { plan, inventory } = planWithOverrides(inputs.runbookFile, { inventory: inputs.inventory, overrides, limit: inputs.limit ?? undefined });
  if (plan.planHash !== inputs.planHash) {
    throw new RefusedError(
      `the plan changed since the run started (now ${plan.planHash}, then ${inputs.planHash}): ${inputs.runbookFile}, ${inputs.inventory} or the params differ; start a new run instead`,
    );
  }
  return { plan, inventory };
}

/** The mode the run started in, as its journal records it (inputs.json for a journal without a run-start). */
export function resumeModeOf(events: readonly RunEvent[], inputs: Pick<RunInputs, 'options'>): ResumeMode {
  const first = events.find((e): e is Extract<RunEvent, { type: 'run-start' }> => e.type === 'run-start');
  const mode = first?.mode ?? inputs.options.mode;
  return mode === 'probe' ? 'unattended' : mode;
}

/** What opening a run directory read, before its plan is rebuilt. */
export interface OpenedRunFiles {
  runDir: RunDir;
  inputs: RunInputs;
  events: RunEvent[];
  /** Lines of the journal that could not be read (a torn last line after a crash). */
  problems: JournalProblem[];
  journalPath: string;
  /** Result files written again from the journal because a crash left them missing. */
  rebuilt: string[];
}

/** A run directory opened for resume: either the run already ended, or where it continues. */
export type OpenedRun =
  | (OpenedRunFiles & { state: 'ended'; end: Extract<RunEvent, { type: 'run-end' }> })
  | (OpenedRunFiles & { state: 'resumable'; plan: Plan; inventory: Inventory; point: ResumePoint; mode: ResumeMode; operator: string });

export interface OpenRunOptions {
  /** Run the step the run failed at again, on the hosts that failed only. */
  retryFailed?: boolean | undefined;
  /** Secret params of the original run (never stored in the run directory). */
  extraVars?: string[] | undefined;
  /** Someone else takes over (default: the run's own operator). */
  operator?: string | undefined;
  /** Told what was read (unreadable journal lines, rebuilt result files) before the plan is rebuilt, which may refuse. */
  onOpen?: ((opened: OpenedRunFiles) => void) | undefined;
}

/**
 * Opens a run directory for resume. Missing result.json/report.md are rebuilt from the journal
 * first, whatever comes next; a run that already ended for good is reported, not continued.
 */
export function openRun(dir: string, options: OpenRunOptions = {}): OpenedRun {
  const runDir = openRunDir(dir);
  const inputs = readRunInputs(runDir);
  const journal = readJournal(runDir.path);
  // A controller killed just after run-end left no result files: write them from the journal
  // first (a new segment rewrites them at its end anyway).
  const rebuilt = rebuildMissingResultFiles(runDir.path, journal.events);
  const opened: OpenedRunFiles = { runDir, inputs, events: journal.events, problems: journal.problems, journalPath: journal.path, rebuilt };
  options.onOpen?.(opened);
  const end = latestRunEnd(journal.events);
  if (end && ENDED_FOR_GOOD.has(end.outcome)) return { ...opened, state: 'ended', end };
  const { plan, inventory } = rebuildPlan(inputs, options.extraVars ?? []);
  const point = resumePointFromEvents(plan, journal.events, { retryFailed: options.retryFailed === true });
  // The run's operator carries on unless someone else says they take over.
  const started = journal.events.filter((e): e is Extract<RunEvent, { type: 'run-start' }> => e.type === 'run-start');
  const operator = options.operator ?? started.at(-1)?.operator ?? osUser();
  return { ...opened, state: 'resumable', plan, inventory, point, mode: resumeModeOf(journal.events, inputs), operator };
}

/** How a mode continues: its strategy, and for guided runs the console its prompts pause. */
export interface ResumeSetup {
  strategy: Strategy;
  console?: ConsoleSink | undefined;
  sinks?: EventSink[] | undefined;
}

/** The strategy a resumed run continues in, chosen by the mode it started in. */
export async function resumeSetup(
  mode: ResumeMode,
  options: { yes: boolean; operator: string; runDir: string; secrets: readonly string[] },
): Promise<ResumeSetup> {
  switch (mode) {
    case 'unattended':
      return { strategy: new UnattendedStrategy(options) };
    case 'guided': {
      // The operator is asked again, with the same console and evidence; the prompt library loads
      // only here.
      const { guidedSetup, requireTerminal } = await import('./guided.js');
      requireTerminal('resuming a guided run');
      return guidedSetup({ operator: options.operator, runDir: options.runDir, secrets: options.secrets });
    }
  }
}

export interface ContinueRequest {
  /** Apply mutating steps (as for a new run's --yes). */
  yes: boolean;
  session: SessionOptions;
  /** As for runSession: extra sinks, transports (tests), a cancel signal. */
  sinks?: EventSink[] | undefined;
  transports?: SessionRequest['transports'];
  signal?: AbortSignal | undefined;
}

/** Continues an opened run in the mode it started in, as a new segment of the same journal. */
export async function continueRun(run: Extract<OpenedRun, { state: 'resumable' }>, req: ContinueRequest): Promise<{ result: RunResult; events: MemorySink }> {
  const setup = await resumeSetup(run.mode, { yes: req.yes, operator: run.operator, runDir: run.runDir.path, secrets: run.plan.secrets });
  return runSession({
    plan: run.plan,
    inventory: run.inventory,
    strategy: setup.strategy,
    console: setup.console,
    sinks: [...(setup.sinks ?? []), ...(req.sinks ?? [])],
    runDir: run.runDir,
    runId: run.point.runId,
    session: req.session,
    resume: run.point,
    previousEvents: run.events,
    transports: req.transports,
    signal: req.signal,
  });
}
