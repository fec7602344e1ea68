// approve mode: the run diagnoses unattended, then each mutating step waits for an approval
// written through the API (POST /api/runs/:id/approvals). The API checks the plan hash, step and
// hosts before it pushes the answer; this side takes only an answer for the exact step, batch
// and plan hash it is waiting on. The operator recorded with the approval is the token's name.
import type { Redis } from 'ioredis';
import type { ApprovalDecision } from '../engine/events.js';
import type { ApprovalAnswer, ApprovalRequest, CauseAnswer, CauseRequest, FailureAnswer, FailureRequest, Strategy } from '../engine/strategy.js';
import { duplicate, KEY_PREFIX } from './redis.js';
import type { PendingApproval, RunStore } from './store.js';

export const approvalsKey = (runId: string): string => `${KEY_PREFIX}run:${runId}:approvals`;

/** What the API pushes for the waiting worker. */
export interface ApprovalMessage {
  step: string;
  batch: number | null;
  planHash: string;
  decision: Extract<ApprovalDecision, 'approved' | 'skipped' | 'refused'>;
  hosts: string[];
  operator: string;
  comment: string | null;
  /** Approved for this and the step's remaining rolling batches. */
  remaining?: boolean | undefined;
}

export interface ApiApprovalOptions {
  redis: Redis;
  store: RunStore;
  runId: string;
  timeoutMs: number;
  signal: AbortSignal;
  onRequest: (pending: PendingApproval) => Promise<void>;
}

export class ApiApprovalStrategy implements Strategy {
  readonly mode = 'unattended' as const;
  /** Recorded when no person answered (timeouts, cancels); approvals carry their operator. */
  readonly operator = 'remedy-serve';

  private readonly opts: ApiApprovalOptions;
  /** Steps whose remaining rolling batches an operator approved in one answer, and who did. */
  readonly #approvedRemaining = new Map<string, string>();
  constructor(opts: ApiApprovalOptions) {
    this.opts = opts;
  }

  async approve(req: ApprovalRequest): Promise<ApprovalAnswer> {
    const { redis, store, runId, signal } = this.opts;
    // "This and the remaining batches": later batches run without asking; each batch's approval
    // is still journaled, with the operator who gave it.
    const remembered = req.batch && !req.rollback ? this.#approvedRemaining.get(req.step.id) : undefined;
    if (remembered !== undefined) return { decision: 'approved', hosts: [...req.hosts], source: 'operator', operator: remembered };
    const pending: PendingApproval = {
      step: req.step.id,
      hosts: req.hosts,
      planHash: req.planHash,
      batch: req.batch?.index ?? null,
      batchCount: req.batch?.count ?? null,
      commands: req.commands.map((c) => ({ host: c.host, command: c.command })),
      diffs: req.diffs,
      requestedAt: new Date().toISOString(),
    };
    // An answer pushed for an earlier wait must not approve this one.
    await redis.del(approvalsKey(runId));
    await store.update(runId, { approval: pending });
    await this.opts.onRequest(pending);
    // BLPOP blocks its connection: one of its own for the wait.
    const conn = duplicate(redis, `approval ${runId}`);
    try {
      const deadline = Date.now() + this.opts.timeoutMs;
      for (;;) {
        if (signal.aborted) return { decision: 'aborted', source: 'operator' };
        const left = deadline - Date.now();
        if (left <= 0) return { decision: 'timed-out', source: 'policy' };
        const popped = await conn.blpop(approvalsKey(runId), Math.max(0.1, Math.min(1, left / 1000)));
        if (!popped) continue;
        const a = JSON.parse(popped[1]) as ApprovalMessage;
        if (a.step !== pending.step || a.batch !== pending.batch || a.planHash !== pending.planHash) continue;
        const hosts = a.hosts.filter((h) => pending.hosts.includes(h));
        if (a.remaining === true && a.decision === 'approved' && req.batch && req.batch.index < req.batch.count)
          this.#approvedRemaining.set(pending.step, a.operator);
        return {
          decision: a.decision,
          hosts: hosts.length > 0 ? hosts : pending.hosts,
          source: 'operator',
          operator: a.operator,
          comment: a.comment ?? undefined,
        };
      }
    } finally {
      conn.disconnect();
      await store.update(runId, { approval: null });
    }
  }

  async onFailure(_req: FailureRequest): Promise<FailureAnswer> {
    return { action: 'policy' };
  }

  async confirmCause(req: CauseRequest): Promise<CauseAnswer> {
    return { cause: req.cause, source: 'runbook' };
  }
}
