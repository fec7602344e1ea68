// A scripted operator for GuidedStrategy tests: answers are queued per question; a queued Error
// is thrown instead (PromptInterrupted, PromptTimedOut); everything shown and asked is recorded.
import {
  PromptInterrupted,
  PromptTimedOut,
  type ApprovalChoice,
  type AskContext,
  type CauseChoice,
  type FailureChoice,
  type Presentation,
  type Prompter,
} from '../../src/engine/guided.js';
import type { ApprovalRequest, CauseRequest, FailureRequest } from '../../src/engine/strategy.js';

type Answer<T> = T | Error | ((ctx: AskContext) => Promise<T>);

export interface ScriptedAnswers {
  cause?: Answer<CauseChoice>[];
  pickCause?: Answer<string>[];
  approval?: Answer<ApprovalChoice>[];
  pickHosts?: Answer<string[]>[];
  failure?: Answer<FailureChoice>[];
}

export class ScriptedPrompter implements Prompter {
  readonly shown: Presentation[] = [];
  /** Every question, in order: its kind and context. */
  readonly asked: { kind: keyof ScriptedAnswers; ctx: AskContext & { canPick?: boolean } }[] = [];
  begins = 0;
  ends = 0;
  readonly #answers: Required<ScriptedAnswers>;

  constructor(answers: ScriptedAnswers) {
    this.#answers = { cause: [], pickCause: [], approval: [], pickHosts: [], failure: [], ...answers };
  }

  async begin(): Promise<void> {
    this.begins++;
  }
  end(): void {
    this.ends++;
  }
  async present(item: Presentation): Promise<void> {
    this.shown.push(item);
  }
  askCause(_req: CauseRequest, ctx: AskContext): Promise<CauseChoice> {
    return this.#next('cause', ctx);
  }
  pickCause(_req: CauseRequest, ctx: AskContext): Promise<string> {
    return this.#next('pickCause', ctx);
  }
  askApproval(_req: ApprovalRequest, ctx: AskContext & { canPick: boolean }): Promise<ApprovalChoice> {
    return this.#next('approval', ctx);
  }
  pickHosts(_req: ApprovalRequest, ctx: AskContext): Promise<string[]> {
    return this.#next('pickHosts', ctx);
  }
  askFailure(_req: FailureRequest, ctx: AskContext): Promise<FailureChoice> {
    return this.#next('failure', ctx);
  }

  /** Answers not used (a test that scripted too much has a wrong idea of the dialogue). */
  left(): Record<string, number> {
    return Object.fromEntries(
      Object.entries(this.#answers)
        .filter(([, v]) => v.length > 0)
        .map(([k, v]) => [k, v.length]),
    );
  }

  async #next<K extends keyof ScriptedAnswers>(kind: K, ctx: AskContext): Promise<never> {
    this.asked.push({ kind, ctx });
    const queue = this.#answers[kind] as Answer<unknown>[];
    if (queue.length === 0) throw new Error(`unscripted question: ${kind}`);
    const a = queue.shift();
    if (a instanceof Error) throw a;
    if (typeof a === 'function') return (await (a as (c: AskContext) => Promise<unknown>)(ctx)) as never;
    return a as never;
  }
}

export const ctrlC = (): Error => new PromptInterrupted('ctrl-c');
export const noAnswer = (): Error => new PromptTimedOut('timeout');
