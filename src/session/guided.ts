// A guided session's pieces: the strategy that asks the operator, its pausable console, and the
// evidence kept for the questions. Loaded only by sessions that talk to a person (inquirer and
// listr2 stay out of unattended runs).
import type { EventSink } from '../engine/events.js';
import { GuidedStrategy } from '../engine/guided.js';
import { UsageError } from '../errors.js';
import { Redactor } from '../redact/redactor.js';
import { createConsoleSink, type ConsoleSink } from '../ui/console.js';
import { colorEnabled } from '../ui/format.js';
import { EvidenceLog } from '../ui/prompts/evidence.js';
import { InquirerPrompter } from '../ui/prompts/inquirer-prompter.js';

/** Guided runs talk to a person: both ends must be a terminal. */
export function requireTerminal(what: string, stdin: { isTTY?: boolean } = process.stdin, stdout: { isTTY?: boolean } = process.stdout): void {
  if (stdin.isTTY === true && stdout.isTTY === true) return;
  const which = stdin.isTTY !== true && stdout.isTTY !== true ? 'stdin and stdout are not' : stdin.isTTY !== true ? 'stdin is not' : 'stdout is not';
  throw new UsageError(
    `${what} asks the operator at every decision and needs a terminal (${which} a TTY); for runs without a person use \`remedy run\` (add --yes to apply the fixes)`,
  );
}

/** What a guided session adds to runSession: the strategy, its pausable console, the evidence sink. */
export interface GuidedSetup {
  strategy: GuidedStrategy;
  console: ConsoleSink;
  sinks: EventSink[];
}

/**
 * The guided console and strategy for runSession: progress on stdout, paused by the prompter
 * while it has the operator's attention, and the diagnosis kept for the evidence at a decision.
 * `remedy guide` uses it, and so does resuming a run that started guided.
 */
export function guidedSetup(options: {
  operator: string;
  runDir: string | null;
  secrets?: readonly string[] | undefined;
  approvalTimeoutMs?: number | undefined;
  verbose?: boolean | undefined;
}): GuidedSetup {
  const color = colorEnabled(process.stdout);
  // The live listr2 view (guided mode always has a terminal); the prompter pauses it around
  // every question, so prompts never interleave with progress.
  const view = createConsoleSink({
    output: 'text',
    tty: true,
    stream: process.stdout,
    redactor: new Redactor([...(options.secrets ?? [])]),
    color,
    verbose: options.verbose,
  });
  const evidence = new EvidenceLog(options.runDir);
  const prompter = new InquirerPrompter({ view, evidence, runDir: options.runDir, color, approvalTimeoutMs: options.approvalTimeoutMs });
  return {
    strategy: new GuidedStrategy({ operator: options.operator, prompter, approvalTimeoutMs: options.approvalTimeoutMs }),
    console: view,
    sinks: [evidence],
  };
}
