// The `remedy resume …` line printed after a run that can be continued. It is worked out the way
// `remedy resume` itself decides (from the journal, through resumePointFromEvents), so the line
// printed is one that works as printed: with --retry-failed when the run stopped at a failed
// step, --yes when unattended mutations lie ahead, and secret params passed from the environment.
import type { RunEvent } from '../engine/events.js';
import { resumePointFromEvents } from '../engine/resume-point.js';
import { readJournal } from '../journal/journal.js';
import { readRunInputs, type RunDir } from '../journal/run-dir.js';
import type { Plan } from '../plan/types.js';
import { displayPath } from '../runbook/index.js';
import { shellQuote } from '../shell/quote.js';

/** The resume command for a run directory, or null when the run cannot be resumed (it ended). */
export function resumeHint(plan: Plan, runDir: RunDir, events?: readonly RunEvent[]): string | null {
  let journal: readonly RunEvent[];
  let inputs;
  try {
    journal = events ?? readJournal(runDir.path).events;
    inputs = readRunInputs(runDir);
  } catch {
    return null;
  }
  const flags: string[] = [];
  const works = (retryFailed: boolean): boolean => {
    try {
      resumePointFromEvents(plan, [...journal], { retryFailed });
      return true;
    } catch {
      return false;
    }
  };
  if (!works(false)) {
    if (!works(true)) return null;
    flags.push('--retry-failed');
  }
  // Unattended runs apply mutations only with --yes; a guided run asks its operator again.
  if (inputs.options.mode !== 'guided') flags.push('--yes');
  for (const p of inputs.withheldParams) flags.push(`-e "${p}=$${p.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}"`);
  // Relative inside the current directory, absolute outside it (never ../../tmp/…).
  const dir = displayPath(runDir.path);
  return ['remedy resume', shellQuote(dir), ...flags].join(' ');
}
