// remedy resume DIR: continue an interrupted, refused or failed run from its journal. The plan is
// rebuilt from inputs.json and must hash the same; completed steps are not re-run; a mutating step
// that started without being recorded as finished is re-checked through its verify first.
import { type Command } from 'commander';
import type { EventSink } from '../../engine/events.js';
import type { RunEvent, RunMode, RunOutcome } from '../../engine/events.js';
import { resumePointFromEvents } from '../../engine/resume-point.js';
import { UnattendedStrategy, type Strategy } from '../../engine/strategy.js';
import { RefusedError, UsageError } from '../../errors.js';
import type { Inventory } from '../../inventory/types.js';
import { readJournal } from '../../journal/journal.js';
import { latestRunEnd, rebuildMissingResultFiles } from '../../journal/rebuild.js';
import { openRunDir, readRunInputs, type RunInputs } from '../../journal/run-dir.js';
import type { Plan } from '../../plan/types.js';
import { parseExtraVars } from '../../runbook/index.js';
import type { ConsoleSink } from '../../ui/console.js';
import { action } from '../exit.js';
import { collect, planWithOverrides } from '../load-inputs.js';
import { addSessionOptions, osUser, printSummary, runSession, type OutputFormat } from './run.js';

/**
 * How a resumed run decides: an unattended run resumes unattended; `remedy guide` registers its
 * strategy here so a guided run resumes guided.
 */
/** How a mode continues: its strategy, and for guided runs the console its prompts pause. */
export interface ResumeSetup {
  strategy: Strategy;
  console?: ConsoleSink | undefined;
  sinks?: EventSink[] | undefined;
}
/** Outcomes a resume cannot continue (resume-point.ts refuses them too). */
const ENDED_FOR_GOOD: ReadonlySet<RunOutcome> = new Set(['resolved', 'nothing-to-do', 'escalated']);

export const resumeStrategies: Partial<Record<RunMode, (options: { yes: boolean; operator: string; runDir: string; secrets: readonly string[] }) => ResumeSetup>> = {
  unattended: (o) => ({ strategy: new UnattendedStrategy(o) }),
};

/** Rebuilds the run's plan from inputs.json (secret params withheld there must be given again). */
export function rebuildPlan(inputs: RunInputs, extraVars: string[]): { plan: Plan; inventory: Inventory } {
  const given = parseExtraVars(extraVars);
  const missing = inputs.withheldParams.filter((p) => given[p] === undefined);
  if (missing.length > 0) {
    throw new UsageError(`the run was given secret param${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which a run directory never stores: pass ${missing.map((m) => `-e ${m}=…`).join(' ')} again`);
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

interface ResumeCliOptions {
  serverAliveInterval?: number;
  serverAliveCountMax?: number;
  retryFailed?: boolean;
  yes?: boolean;
  extraVar: string[];
  forks: number;
  output: OutputFormat;
  knownHosts?: string;
  acceptNewHostKeys?: boolean;
  operator?: string;
  breakLock?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('resume')
    .description('Continue an interrupted, refused or failed run from its journal: completed steps are not re-run, a mutating step cut short is re-checked through its verify before any re-run. Missing result.json/report.md are rebuilt from the journal first; a run that already ended (resolved, nothing to do, escalated) is not continued and resume exits with that run\'s own exit code.')
    .argument('<dir>', 'the run directory')
    .option('--retry-failed', 'run the step the run failed at again, on the hosts that failed only')
    .option('-y, --yes', 'apply mutating steps (as for remedy run)')
    .option('-e, --extra-var <key=value>', 'secret params of the original run (never stored in the run directory)', collect, []);
  addSessionOptions(cmd)
    .addHelpText('after', '\nExamples:\n  remedy resume runs/20261124T134501Z-apigee-502-bad-gateway --yes\n  remedy resume runs/20261124T134501Z-apigee-502-bad-gateway --retry-failed --yes\n')
    .action(
      action(async (dir: string, opts: ResumeCliOptions) => {
        const runDir = openRunDir(dir);
        const inputs = readRunInputs(runDir);
        const journal = readJournal(runDir.path);
        for (const p of journal.problems) process.stderr.write(`remedy: ${journal.path}:${p.line}: ${p.message}\n`);
        // A controller killed just after run-end left no result files: write them from the journal
        // first, whatever resume decides next (a new segment rewrites them at its end anyway).
        const rebuilt = rebuildMissingResultFiles(runDir.path, journal.events);
        if (rebuilt.length > 0) process.stderr.write(`remedy: rebuilt ${rebuilt.join(' and ')} from the journal\n`);
        const end = latestRunEnd(journal.events);
        if (end && ENDED_FOR_GOOD.has(end.outcome)) {
          // Nothing to resume: answer what the run answered, so a caller retrying `resume` after a
          // crash gets the run's own exit code, not a refusal.
          process.stderr.write(`remedy: the run already ended (${end.outcome}, exit ${end.exitCode}): nothing to resume\n`);
          return end.exitCode;
        }
        const { plan, inventory } = rebuildPlan(inputs, opts.extraVar);
        const point = resumePointFromEvents(plan, journal.events, { retryFailed: opts.retryFailed === true });
        const mode = inputs.options.mode === 'probe' ? 'unattended' : inputs.options.mode;
        const factory = resumeStrategies[mode];
        if (!factory) throw new UsageError(`this run was ${mode}; resuming it needs the ${mode} mode, which this build does not have`);
        // The run's operator carries on unless someone else says they take over (--operator).
        const started = journal.events.filter((e): e is Extract<RunEvent, { type: 'run-start' }> => e.type === 'run-start');
        const operator = opts.operator ?? started.at(-1)?.operator ?? osUser();
        const setup = factory({ yes: opts.yes === true, operator, runDir: runDir.path, secrets: plan.secrets });
        const { result, events } = await runSession({
          plan,
          inventory,
          strategy: setup.strategy,
          console: setup.console,
          sinks: setup.sinks,
          runDir,
          runId: point.runId,
          session: { ...opts, forks: opts.forks },
          resume: point,
          previousEvents: journal.events,
        });
        printSummary(result, [...journal.events, ...events.events], runDir, opts.output, plan);
        return result.exitCode;
      }),
    );
}
