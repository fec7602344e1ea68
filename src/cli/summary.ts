// What the CLI prints after a run (the console view already printed the recap): why it ended,
// what a refusal would have done, where the record is, how to continue.
import type { RunEvent } from '../engine/events.js';
import type { RunResult } from '../engine/executor.js';
import type { RunDir } from '../journal/run-dir.js';
import type { Plan } from '../plan/types.js';
import { displayPath } from '../runbook/index.js';
import type { OutputFormat } from '../session/options.js';
import { colorEnabled, colors } from '../ui/format.js';
import { resumeHint } from './resume-hint.js';

/** After an unattended run or a resume: what a refusal would have done, where the record is. */
export function printSummary(result: RunResult, events: RunEvent[], runDir: RunDir, output: OutputFormat, plan: Plan): void {
  if (output === 'jsonl') return;
  const hint = resumeHint(plan, runDir);
  const err = process.stderr;
  const c = colors(colorEnabled(err));
  const refusal =
    result.outcome === 'refused'
      ? [...events].reverse().find((e): e is Extract<RunEvent, { type: 'approval' }> => e.type === 'approval' && e.decision !== 'approved')
      : undefined;
  if (refusal) {
    err.write(`\n${c.bold('Refused')} step ${refusal.step} on ${refusal.hosts.join(', ')}. It would have run:\n`);
    for (const cmd of refusal.commands ?? []) err.write(`  ${cmd.host}: ${cmd.command}\n`);
    for (const [host, diff] of Object.entries(refusal.diffs ?? {})) err.write(`  ${host}:\n${diff.replace(/^/gm, '    ')}\n`);
    err.write(`Review, then apply with --yes (and --plan-hash ${result.planHash} to apply exactly this plan)${hint ? `, or \`${hint}\`` : ''}.\n`);
  } else if (result.message) err.write(`${result.message}\n`);
  err.write(`${c.dim(`run directory: ${displayPath(runDir.path)}`)}\n`);
  if (!refusal && hint && result.outcome !== 'resolved' && result.outcome !== 'nothing-to-do' && result.outcome !== 'escalated')
    err.write(`${c.dim(`continue it with: ${hint}`)}\n`);
}

/** After a guided run: why it ended, where the record is. */
export function printGuidedSummary(result: RunResult, runDir: RunDir, plan: Plan): void {
  const err = process.stderr;
  const c = colors(colorEnabled(err));
  if (result.message) err.write(`${result.message}\n`);
  const dir = displayPath(runDir.path);
  err.write(`${c.dim(`run directory: ${dir} (journal, outputs, report.md)`)}\n`);
  const hint = result.outcome === 'resolved' || result.outcome === 'nothing-to-do' || result.outcome === 'escalated' ? null : resumeHint(plan, runDir);
  if (hint) err.write(`${c.dim(`continue it with: ${hint}`)}\n`);
}
