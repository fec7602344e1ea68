// `remedy guide`: the strategy that asks the operator at every decision point. It holds the
// dialogue's logic (what can be chosen, what a choice means for the executor, what a timeout or a
// Ctrl-C does) and nothing of the terminal: questions go through a Prompter (inquirer in
// src/ui/prompts, a script in tests). Like Ansible's debug strategy, it is a small layer over the
// one executor; every answer it gives is journaled by the executor (approval, decision override).
import { InterruptedError } from '../errors.js';
import type { ApprovalAnswer, ApprovalRequest, CauseAnswer, CauseRequest, FailureAnswer, FailureRequest, Strategy } from './strategy.js';

/** What the operator can answer before a mutating step (or rolling batch). */
export type ApprovalChoice = 'run' | 'run-remaining' | 'pick' | 'skip' | 'details' | 'abort';
/** What the operator can answer after a failure. */
export type FailureChoice = 'retry' | 'skip' | 'rollback' | 'abort' | 'policy' | 'output';
/** What the operator can answer at a decide step. */
export type CauseChoice = 'accept' | 'other' | 'details';

/** Something to show the operator before (or between) questions. */
export type Presentation =
  | { kind: 'cause'; req: CauseRequest }
  | { kind: 'cause-details'; req: CauseRequest }
  | { kind: 'approval'; req: ApprovalRequest }
  | { kind: 'approval-details'; req: ApprovalRequest }
  | { kind: 'failure'; req: FailureRequest }
  | { kind: 'failure-output'; req: FailureRequest };

/** Per-question context: `signal` aborts the question when the approval timeout runs out. */
export interface AskContext {
  signal?: AbortSignal | undefined;
}

/**
 * The operator, as the strategy sees them. A question rejects with PromptInterrupted when the
 * operator interrupts (Ctrl-C) and with PromptTimedOut when ctx.signal aborts; anything else it
 * throws is a bug and ends the run as failed.
 */
export interface Prompter {
  /** The operator's attention begins (a view drawing live progress stops) … */
  begin(): Promise<void>;
  /** … and ends (the view may draw again). Called once per begin(), also after an error. */
  end(): void;
  present(item: Presentation): Promise<void>;
  askCause(req: CauseRequest, ctx: AskContext): Promise<CauseChoice>;
  /** Another candidate cause than req.cause. */
  pickCause(req: CauseRequest, ctx: AskContext): Promise<string>;
  /**
   * `pick` is offered only when the step would run on more than one host; `run-remaining`
   * (this batch and every later batch of the step) only before a rolling batch that is not the last.
   */
  askApproval(req: ApprovalRequest, ctx: AskContext & { canPick: boolean; canApproveRemaining?: boolean | undefined }): Promise<ApprovalChoice>;
  /** A subset of req.hosts (may be empty: nothing chosen). */
  pickHosts(req: ApprovalRequest, ctx: AskContext): Promise<string[]>;
  /** `rollback` is offered only when req.canRollback. */
  askFailure(req: FailureRequest, ctx: AskContext): Promise<FailureChoice>;
}

/** The operator interrupted a question (Ctrl-C, or the terminal went away). */
export class PromptInterrupted extends Error {
  override name = 'PromptInterrupted';
}

/** The question was not answered before the approval timeout. */
export class PromptTimedOut extends Error {
  override name = 'PromptTimedOut';
}

export interface GuidedStrategyOptions {
  operator: string;
  prompter: Prompter;
  /**
   * --approval-timeout: how long one interaction (an approval with its details and host
   * picking, a failure, a cause) may wait for the operator. Unanswered: an approval is refused
   * (`timed-out`), a failure aborts the run without rollback, a cause stays as diagnosed. After
   * the first unanswered question every later one is answered the same way at once: nothing
   * mutates without an answer, and nobody waits twice. Undefined: wait for ever.
   */
  approvalTimeoutMs?: number | undefined;
  /** Makes the timeout signal (tests); default AbortSignal.timeout. */
  timeoutSignal?: ((ms: number) => AbortSignal) | undefined;
}

type Outcome<T> = { answered: T } | { timedOut: true };

export class GuidedStrategy implements Strategy {
  readonly mode = 'guided' as const;
  readonly operator: string;
  readonly #prompter: Prompter;
  readonly #timeoutMs: number | undefined;
  readonly #timeoutSignal: (ms: number) => AbortSignal;
  /** Steps whose remaining rolling batches the operator approved in one answer. */
  readonly #approvedRemaining = new Set<string>();
  /**
   * Set by the first unanswered question: the operator is not there, so every later question is
   * answered as a timeout at once (refused, nothing run) instead of waiting the timeout again.
   */
  #unattended = false;

  constructor(options: GuidedStrategyOptions) {
    this.operator = options.operator;
    this.#prompter = options.prompter;
    this.#timeoutMs = options.approvalTimeoutMs;
    this.#timeoutSignal = options.timeoutSignal ?? ((ms) => AbortSignal.timeout(ms));
  }

  async confirmCause(req: CauseRequest): Promise<CauseAnswer> {
    const r = await this.#interaction(`the decision of step ${req.step.id}`, async (ctx) => {
      const p = this.#prompter;
      await p.present({ kind: 'cause', req });
      const others = req.candidates.filter((c) => c.cause !== req.cause);
      for (;;) {
        const choice = await p.askCause(req, ctx);
        if (choice === 'accept') return req.cause;
        if (choice === 'details') {
          await p.present({ kind: 'cause-details', req });
          continue;
        }
        if (others.length === 0) continue;
        const picked = await p.pickCause(req, ctx);
        // Only a cause the step can name: anything else would send the run down no branch.
        if (req.candidates.some((c) => c.cause === picked)) return picked;
      }
    });
    // A prompt that timed out leaves the conditions' conclusion standing: nobody accepted it.
    return 'answered' in r ? { cause: r.answered, source: 'operator' } : { cause: req.cause, source: 'runbook' };
  }

  async approve(req: ApprovalRequest): Promise<ApprovalAnswer> {
    // Approved with "this and the remaining batches": later batches run without asking again
    // (the executor journals each batch's approval, with this operator).
    if (req.batch && !req.rollback && this.#approvedRemaining.has(req.step.id)) return { decision: 'approved', hosts: [...req.hosts], source: 'operator' };
    const r = await this.#interaction(`the approval of step ${req.step.id}`, async (ctx): Promise<ApprovalAnswer> => {
      const p = this.#prompter;
      await p.present({ kind: 'approval', req });
      const canPick = req.hosts.length > 1;
      const canApproveRemaining = req.batch != null && req.batch.index < req.batch.count && !req.rollback;
      for (;;) {
        const choice = await p.askApproval(req, { ...ctx, canPick, canApproveRemaining });
        switch (choice) {
          case 'run':
            return { decision: 'approved', hosts: [...req.hosts], source: 'operator' };
          case 'run-remaining':
            if (!canApproveRemaining) continue;
            this.#approvedRemaining.add(req.step.id);
            return { decision: 'approved', hosts: [...req.hosts], source: 'operator' };
          case 'skip':
            return { decision: 'skipped', source: 'operator' };
          case 'abort':
            return { decision: 'aborted', source: 'operator' };
          case 'details':
            await p.present({ kind: 'approval-details', req });
            continue;
          case 'pick': {
            if (!canPick) continue;
            const chosen = new Set(await p.pickHosts(req, ctx));
            const hosts = req.hosts.filter((h) => chosen.has(h));
            // Nothing chosen: ask again rather than guess between "skip" and a slip of the key.
            if (hosts.length > 0) return { decision: 'approved', hosts, source: 'operator' };
            continue;
          }
        }
      }
    });
    return 'answered' in r ? r.answered : { decision: 'timed-out', source: 'policy' };
  }

  async onFailure(req: FailureRequest): Promise<FailureAnswer> {
    const r = await this.#interaction(`the failure of step ${req.step.id}`, async (ctx): Promise<FailureAnswer> => {
      const p = this.#prompter;
      await p.present({ kind: 'failure', req });
      for (;;) {
        const choice = await p.askFailure(req, ctx);
        switch (choice) {
          case 'output':
            await p.present({ kind: 'failure-output', req });
            continue;
          case 'rollback':
            if (!req.canRollback) continue;
            return { action: 'rollback' };
          case 'retry':
          case 'skip':
          case 'abort':
          case 'policy':
            return { action: choice };
        }
      }
    });
    // Unanswered: stop here, without rollback (a rollback mutates too).
    return 'answered' in r ? r.answered : { action: 'abort' };
  }

  /** One interaction: the operator's attention, the timeout, Ctrl-C turned into an interrupted run. */
  async #interaction<T>(what: string, body: (ctx: AskContext) => Promise<T>): Promise<Outcome<T>> {
    if (this.#unattended) return { timedOut: true };
    const ctx: AskContext = this.#timeoutMs !== undefined ? { signal: this.#timeoutSignal(this.#timeoutMs) } : {};
    await this.#prompter.begin();
    try {
      return { answered: await body(ctx) };
    } catch (err) {
      if (err instanceof PromptTimedOut) {
        this.#unattended = true;
        return { timedOut: true };
      }
      if (err instanceof PromptInterrupted) throw new InterruptedError(`${this.operator} interrupted the run at ${what}`);
      throw err;
    } finally {
      this.#prompter.end();
    }
  }
}
