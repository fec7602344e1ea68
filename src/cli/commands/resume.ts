// remedy resume DIR: continue an interrupted, refused or failed run from its journal. The plan is
// rebuilt from inputs.json and must hash the same; completed steps are not re-run; a mutating step
// that started without being recorded as finished is re-checked through its verify first. The
// run continues in the mode it started in (src/session/resume.ts reads it from the journal).
import { type Command } from 'commander';
import type { OutputFormat } from '../../session/options.js';
import { continueRun, openRun } from '../../session/resume.js';
import { action } from '../exit.js';
import { collect } from '../load-inputs.js';
import { addSessionOptions } from '../session-options.js';
import { printSummary } from '../summary.js';

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
    .description(
      "Continue an interrupted, refused or failed run from its journal: completed steps are not re-run, a mutating step cut short is re-checked through its verify before any re-run. Missing result.json/report.md are rebuilt from the journal first; a run that already ended (resolved, nothing to do, escalated) is not continued and resume exits with that run's own exit code.",
    )
    .argument('<dir>', 'the run directory')
    .option('--retry-failed', 'run the step the run failed at again, on the hosts that failed only')
    .option('-y, --yes', 'apply mutating steps (as for remedy run)')
    .option('-e, --extra-var <key=value>', 'secret params of the original run (never stored in the run directory)', collect, []);
  addSessionOptions(cmd)
    .addHelpText(
      'after',
      '\nExamples:\n  remedy resume runs/20261124T134501Z-apigee-502-bad-gateway --yes\n  remedy resume runs/20261124T134501Z-apigee-502-bad-gateway --retry-failed --yes\n',
    )
    .action(
      action(async (dir: string, opts: ResumeCliOptions) => {
        const run = openRun(dir, {
          retryFailed: opts.retryFailed === true,
          extraVars: opts.extraVar,
          operator: opts.operator,
          onOpen: (opened) => {
            for (const p of opened.problems) process.stderr.write(`remedy: ${opened.journalPath}:${p.line}: ${p.message}\n`);
            if (opened.rebuilt.length > 0) process.stderr.write(`remedy: rebuilt ${opened.rebuilt.join(' and ')} from the journal\n`);
          },
        });
        if (run.state === 'ended') {
          // Nothing to resume: answer what the run answered, so a caller retrying `resume` after a
          // crash gets the run's own exit code, not a refusal.
          process.stderr.write(`remedy: the run already ended (${run.end.outcome}, exit ${run.end.exitCode}): nothing to resume\n`);
          return run.end.exitCode;
        }
        const { result, events } = await continueRun(run, { yes: opts.yes === true, session: opts });
        printSummary(result, [...run.events, ...events.events], run.runDir, opts.output, run.plan);
        return result.exitCode;
      }),
    );
}
