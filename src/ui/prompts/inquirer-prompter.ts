// The operator at a terminal: GuidedStrategy's Prompter over @inquirer/prompts (expand for the
// decisions, select for another cause, checkbox for hosts). While it has the operator's
// attention the live view is paused, so prompts never interleave with progress output.
// Ctrl-C at a prompt (inquirer's ExitPromptError) becomes PromptInterrupted; the approval
// timeout (AbortPromptError from the signal) becomes PromptTimedOut.
import { Writable } from 'node:stream';
import type { expand } from '@inquirer/prompts';
import {
  PromptInterrupted,
  PromptTimedOut,
  type ApprovalChoice,
  type AskContext,
  type CauseChoice,
  type FailureChoice,
  type Presentation,
  type Prompter,
} from '../../engine/guided.js';
import type { ApprovalRequest, CauseRequest, FailureRequest } from '../../engine/strategy.js';
import { colors, formatDuration, type Colors } from '../format.js';
import type { EvidenceLog } from './evidence.js';
import { renderPresentation } from './render.js';

type ExpandKey = Parameters<typeof expand>[0]['choices'][number] extends infer C ? (C extends { key: infer K } ? K : never) : never;

export interface PromptContext {
  input?: NodeJS.ReadableStream | undefined;
  output?: NodeJS.WritableStream | undefined;
  signal?: AbortSignal | undefined;
}

/** The inquirer functions used, injectable for tests. */
export interface PromptKit {
  expand(
    config: { message: string; choices: { key: ExpandKey; name: string; value: string }[]; default?: ExpandKey | 'h' | undefined },
    context: PromptContext,
  ): Promise<string>;
  select(config: { message: string; choices: { name: string; value: string; description?: string | undefined }[] }, context: PromptContext): Promise<string>;
  checkbox(config: { message: string; choices: { name: string; value: string }[]; required?: boolean | undefined }, context: PromptContext): Promise<string[]>;
}

/** Loaded at the first question: `remedy --help` and sessions that never ask do not load inquirer. */
const inquirer = () => import('@inquirer/prompts');

export const inquirerKit: PromptKit = {
  expand: async (config, context) => (await inquirer()).expand(config, context),
  select: async (config, context) => (await inquirer()).select(config, context),
  checkbox: async (config, context) => (await inquirer()).checkbox(config, context),
};

/** Something drawing live progress that can let go of the terminal (the console sink, the listr view). */
export interface PausableView {
  pause(): Promise<void>;
  resume(): void;
}

export interface InquirerPrompterOptions {
  /** Paused while the operator is asked. */
  view?: PausableView | null | undefined;
  /** The diagnosis so far, for the evidence at a decision. */
  evidence?: EvidenceLog | undefined;
  runDir?: string | null | undefined;
  input?: NodeJS.ReadableStream | undefined;
  /** Where prompts and what they are about are written (default process.stdout). */
  output?: NodeJS.WritableStream | undefined;
  color?: boolean | undefined;
  /** Shown with each question, so the operator knows the clock runs. */
  approvalTimeoutMs?: number | undefined;
  kit?: PromptKit | undefined;
}

/**
 * Inquirer ends the output it is given when a prompt closes (process.stdout is exempt): a stream
 * of our own (tests, a log) gets a fresh pass-through per prompt so it stays writable.
 */
function unended(target: NodeJS.WritableStream): NodeJS.WritableStream {
  if (target === process.stdout || target === process.stderr) return target;
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      target.write(chunk);
      callback();
    },
  });
}

export class InquirerPrompter implements Prompter {
  readonly #o: InquirerPrompterOptions;
  readonly #out: NodeJS.WritableStream;
  readonly #c: Colors;
  readonly #kit: PromptKit;

  constructor(options: InquirerPrompterOptions = {}) {
    this.#o = options;
    this.#out = options.output ?? process.stdout;
    this.#c = colors(options.color === true);
    this.#kit = options.kit ?? inquirerKit;
  }

  async begin(): Promise<void> {
    // The panel's ━━ heading sets it apart from the live view: no blank line spent on it.
    await this.#o.view?.pause();
  }

  end(): void {
    // The answer line closes the exchange; the live view goes on right under it.
    this.#o.view?.resume();
  }

  async present(item: Presentation): Promise<void> {
    const columns = (this.#out as { columns?: number }).columns;
    const text = renderPresentation(item, {
      c: this.#c,
      evidence: this.#o.evidence,
      runDir: this.#o.runDir,
      width: columns !== undefined && columns >= 40 ? columns : undefined,
    });
    this.#out.write(`${text}\n\n`);
  }

  askCause(req: CauseRequest, ctx: AskContext): Promise<CauseChoice> {
    const others = req.candidates.length > 1;
    return this.#ask(ctx, (context) =>
      this.#kit.expand(
        {
          message: `Accept the cause ${req.cause}?${this.#timeoutNote()}`,
          default: 'y',
          choices: [
            { key: 'y', name: `accept ${req.cause}`, value: 'accept' },
            ...(others ? [{ key: 'o' as const, name: 'choose another cause (recorded as an override)', value: 'other' }] : []),
            { key: 'd', name: 'show every fact and log line gathered', value: 'details' },
          ],
        },
        context,
      ),
    ) as Promise<CauseChoice>;
  }

  pickCause(req: CauseRequest, ctx: AskContext): Promise<string> {
    return this.#ask(ctx, (context) =>
      this.#kit.select(
        {
          message: `Which cause instead of ${req.cause}?`,
          choices: req.candidates
            .filter((k) => k.cause !== req.cause)
            .map((k) => ({ name: k.summary ? `${k.cause} — ${k.summary}` : k.cause, value: k.cause, description: k.condition ?? 'the default cause' })),
        },
        context,
      ),
    );
  }

  askApproval(req: ApprovalRequest, ctx: AskContext & { canPick: boolean; canApproveRemaining?: boolean | undefined }): Promise<ApprovalChoice> {
    const hosts = req.hosts.join(', ');
    const what = req.rollback ? `the rollback step ${req.step.id}` : `step ${req.step.id}`;
    return this.#ask(ctx, (context) =>
      this.#kit.expand(
        {
          message: `Run ${what} on ${hosts}?${this.#timeoutNote()}`,
          // No default: Enter alone shows the choices, it never runs anything.
          default: 'h',
          choices: [
            { key: 'y', name: `run it on ${req.hosts.length === 1 ? hosts : `all ${req.hosts.length} hosts`}`, value: 'run' },
            ...(ctx.canApproveRemaining
              ? [
                  {
                    key: 'r' as const,
                    name: `approve this and the remaining batches of this step (${(req.batch?.count ?? 0) - (req.batch?.index ?? 0)} more, not asked again)`,
                    value: 'run-remaining',
                  },
                ]
              : []),
            ...(ctx.canPick ? [{ key: 'p' as const, name: 'run it on some hosts only (choose which)', value: 'pick' }] : []),
            { key: 's', name: 'skip this step and go on', value: 'skip' },
            { key: 'd', name: 'show the full commands, diffs and step details', value: 'details' },
            { key: 'a', name: 'abort the run (nothing more is changed)', value: 'abort' },
          ],
        },
        context,
      ),
    ) as Promise<ApprovalChoice>;
  }

  pickHosts(req: ApprovalRequest, ctx: AskContext): Promise<string[]> {
    return this.#ask(ctx, (context) =>
      this.#kit.checkbox(
        {
          message: `Run step ${req.step.id} on which hosts? (space selects, enter confirms)`,
          required: true,
          choices: req.hosts.map((h) => ({ name: h, value: h })),
        },
        context,
      ),
    );
  }

  askFailure(req: FailureRequest, ctx: AskContext): Promise<FailureChoice> {
    const hosts = [...req.failed.map((f) => f.host), ...req.unreachable].join(', ');
    const policy = req.policy.action === 'goto' ? `goto ${req.policy.step}` : req.policy.action;
    return this.#ask(ctx, (context) =>
      this.#kit.expand(
        {
          message: `Step ${req.step.id} failed on ${hosts}. What now?${this.#timeoutNote()}`,
          default: 'h',
          choices: [
            { key: 'r', name: `retry it on ${hosts}`, value: 'retry' },
            { key: 's', name: 'skip: leave those hosts as they are and go on', value: 'skip' },
            ...(req.canRollback ? [{ key: 'b' as const, name: 'roll back those hosts, then stop', value: 'rollback' }] : []),
            { key: 'f', name: `follow the runbook (${req.canRollback ? 'rollback, then ' : ''}on_failure ${policy})`, value: 'policy' },
            { key: 'o', name: 'show the full output', value: 'output' },
            { key: 'a', name: 'abort the run now (no rollback)', value: 'abort' },
          ],
        },
        context,
      ),
    ) as Promise<FailureChoice>;
  }

  #timeoutNote(): string {
    const ms = this.#o.approvalTimeoutMs;
    return ms === undefined ? '' : this.#c.dim(` (answer within ${formatDuration(ms)})`);
  }

  async #ask<T>(ctx: AskContext, run: (context: PromptContext) => Promise<T>): Promise<T> {
    try {
      return await run({ input: this.#o.input, output: this.#o.output && unended(this.#o.output), signal: ctx.signal });
    } catch (err) {
      const name = (err as { name?: unknown } | null)?.name;
      if (name === 'ExitPromptError') throw new PromptInterrupted('interrupted at the prompt');
      if (name === 'AbortPromptError' && ctx.signal?.aborted) {
        this.#out.write(`\n${this.#c.yellow('No answer in time')}: nothing more is changed; every later question is answered the same way.\n`);
        throw new PromptTimedOut('no answer in time');
      }
      throw err;
    }
  }
}
