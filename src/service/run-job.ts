// What a worker does with one job: the run it names goes through the session library, as the
// CLI's runs do (planWithOverrides → startRun → runSession, with the strategy the route's mode asks for). A job that
// already has journal events in its stream is a takeover (its worker died): the run directory is
// rebuilt from the stream and the run continues with `remedy resume`'s semantics.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { EventSink, RunEvent } from '../engine/events.js';
import { DEFAULT_FORKS, type RunResult } from '../engine/executor.js';
import { resumePointFromEvents, type ResumePoint } from '../engine/resume-point.js';
import { ProbeStrategy, UnattendedStrategy, type Strategy } from '../engine/strategy.js';
import type { Inventory } from '../inventory/types.js';
import { readJournal } from '../journal/journal.js';
import { readRunInputs, runDirPaths, type RunDir } from '../journal/run-dir.js';
import type { Plan } from '../plan/types.js';
import { planWithOverrides } from '../session/inputs.js';
import { rebuildPlan } from '../session/resume.js';
import { runSession } from '../session/run-session.js';
import { startRun } from '../session/start.js';
import type { ConsoleSink } from '../ui/console.js';
import { ApiApprovalStrategy } from './api-approval.js';
import { RedisHostLeases } from './leases.js';
import type { Metrics } from './metrics.js';
import type { Notifier } from './notify.js';
import type { NotifyEvent } from './policy-schema.js';
import { holdsRunFence, takeRunFence } from './run-fence.js';
import type { Safety } from './safety.js';
import { FINAL_OUTCOMES, type RunRecord, type RunStore } from './store.js';
import { RedisStreamSink } from './stream-sink.js';

export interface JobContext {
  redis: Redis;
  store: RunStore;
  safety: Safety;
  notifier: Notifier | null;
  metrics: Metrics | null;
  dataDir: string;
  workerName: string;
  /** Running runs of this process, for cancel requests. */
  running: Map<string, AbortController>;
  /** TTL of the host leases this worker takes (default DEFAULT_LEASE_TTL_MS). */
  leaseTtlMs?: number | undefined;
  log: (line: string) => void;
}

/** The service has no terminal: the journal, the stream and the API are the views. */
const SILENT_CONSOLE: ConsoleSink = { write: () => undefined, close: async () => undefined, pause: async () => undefined, resume: () => undefined };

const NOTIFY_ON: Partial<Record<string, NotifyEvent>> = {
  resolved: 'resolved',
  escalated: 'escalated',
  failed: 'failed',
  unreachable: 'failed',
  refused: 'refused',
  'nothing-to-do': 'nothing-to-do',
};

/** The evidence a notification carries: the decision's facts and the outcome's message. */
export function evidenceOf(events: readonly RunEvent[]): Record<string, unknown> {
  const decision = [...events].reverse().find((e) => e.type === 'decision');
  const outcome = [...events].reverse().find((e) => e.type === 'outcome');
  const failures = events.filter((e) => e.type === 'host-end' && (e.status === 'failed' || e.status === 'timed-out' || e.status === 'unreachable')).slice(-10);
  return {
    cause: decision?.type === 'decision' ? decision.cause : null,
    facts: decision?.type === 'decision' ? decision.evidence : null,
    outcome: outcome?.type === 'outcome' ? outcome.message : null,
    failures: failures.map((e) =>
      e.type === 'host-end' ? { step: e.step, host: e.host, status: e.status, exitCode: e.exitCode, error: e.error ?? null } : null,
    ),
  };
}

/** Watches the run's events: the first remote command (latency), per-host status. */
class ProgressSink implements EventSink {
  #sawCommand = false;
  private readonly onFirstCommand: () => void;
  constructor(onFirstCommand: () => void) {
    this.onFirstCommand = onFirstCommand;
  }
  write(event: RunEvent): void {
    if (!this.#sawCommand && event.type === 'host-start' && event.command !== undefined) {
      this.#sawCommand = true;
      this.onFirstCommand();
    }
  }
  async close(): Promise<void> {}
}

interface Prepared {
  plan: Plan;
  inventory: Inventory;
  runDir: RunDir;
  resume: ResumePoint | undefined;
  previous: RunEvent[];
}

/** A new run: plan, run directory, inputs.json and plan.json (stored in Redis too, for a takeover elsewhere). */
async function prepareFresh(ctx: JobContext, record: RunRecord): Promise<Prepared> {
  const inputs = planWithOverrides(record.runbook, { inventory: record.inventory, overrides: record.params, limit: record.limit ?? undefined });
  // Redis (AOF) holds the durable copy a takeover rebuilds from, so the local files skip their
  // fsyncs: four synchronous fsyncs held the worker's event loop (and every other run's intake)
  // on the alert → first command path (bench/serve's profile at 10 alerts/s).
  const started = startRun({
    inputs,
    runbook: record.runbook,
    inventory: record.inventory,
    limit: record.limit ?? undefined,
    mode: record.decision.mode === 'plan' ? 'probe' : 'unattended',
    options: { forks: DEFAULT_FORKS, yes: record.decision.mode === 'auto' },
    runDir: join(ctx.dataDir, 'runs', record.id),
    durable: false,
  });
  await ctx.redis.hset(`remedy:run:${record.id}`, 'inputsJson', JSON.stringify(started.inputs), 'planJson', JSON.stringify(started.planJson));
  const { plan } = inputs;
  const { runDir } = started;
  return { plan, inventory: inputs.inventory, runDir, resume: undefined, previous: [] };
}

/** A takeover: the run directory as the dead worker left it, or rebuilt from Redis, then resumed. */
async function prepareTakeover(ctx: JobContext, record: RunRecord, streamed: RunEvent[]): Promise<Prepared> {
  const runDir = runDirPaths(join(ctx.dataDir, 'runs', record.id));
  mkdirSync(runDir.outputs, { recursive: true, mode: 0o700 });
  mkdirSync(runDir.artifacts, { recursive: true, mode: 0o700 });
  const [inputsJson, planJson] = await ctx.redis.hmget(`remedy:run:${record.id}`, 'inputsJson', 'planJson');
  // Redis has the durable copy: it wins over a local file a crash may have left empty.
  if (inputsJson) writeFileSync(runDir.inputs, inputsJson, { mode: 0o600 });
  if (planJson) writeFileSync(runDir.plan, planJson, { mode: 0o600 });
  // The local journal (same machine) may hold events the stream has not got yet; otherwise the
  // stream is the record.
  const local = existsSync(runDir.journal) ? readJournal(runDir.path).events : [];
  if (local.length < streamed.length) writeFileSync(runDir.journal, streamed.map((e) => `${JSON.stringify(e)}\n`).join(''), { mode: 0o600 });
  const events = local.length < streamed.length ? streamed : local;
  const { plan, inventory } = rebuildPlan(readRunInputs(runDir), []);
  const resume = resumePointFromEvents(plan, events, { retryFailed: false });
  return { plan, inventory, runDir, resume, previous: events };
}

function strategyFor(ctx: JobContext, record: RunRecord, signal: AbortSignal): Strategy {
  switch (record.decision.mode) {
    case 'auto':
      return new UnattendedStrategy({ yes: true, operator: 'remedy-serve' });
    case 'plan':
      return new ProbeStrategy({ operator: 'remedy-serve' });
    case 'approve':
      return new ApiApprovalStrategy({
        redis: ctx.redis,
        store: ctx.store,
        runId: record.id,
        timeoutMs: record.decision.approvalTimeoutMs ?? 3_600_000,
        signal,
        onRequest: async (pending) => {
          const run = (await ctx.store.get(record.id)) ?? record;
          await ctx.notifier?.send({
            event: 'approval-needed',
            run,
            summary: `${record.runbook}: step ${pending.step} on ${pending.hosts.join(', ')} waits for approval (plan ${pending.planHash})`,
            evidence: { commands: pending.commands, diffs: pending.diffs },
          });
        },
      });
  }
}

export async function executeRun(ctx: JobContext, runId: string): Promise<RunResult | null> {
  const record = await ctx.store.get(runId);
  if (!record || FINAL_OUTCOMES.includes(record.outcome)) return null;
  const cancel = new AbortController();
  ctx.running.set(runId, cancel);
  ctx.metrics?.activeRuns.inc();
  try {
    if (await ctx.redis.exists(`remedy:cancel:${runId}`)) cancel.abort();
    // From here on this worker holds the run: a worker that had it before is fenced off.
    const fence = await takeRunFence(ctx.redis, runId);
    const streamed = (await ctx.store.events(runId)).map((e) => e.event);
    // Started before (by a worker that died): its events are in the stream, or in a journal on this disk.
    const takeover = streamed.length > 0 || existsSync(runDirPaths(join(ctx.dataDir, 'runs', runId)).journal);
    let prepared: Prepared;
    try {
      prepared = takeover ? await prepareTakeover(ctx, record, streamed) : await prepareFresh(ctx, record);
    } catch (err) {
      const message = (err as Error).message;
      ctx.log(`remedy: run ${runId}: cannot start: ${message}`);
      await ctx.store.finish(runId, { outcome: 'failed', exitCode: 64, message });
      ctx.metrics?.runs.inc({ outcome: 'failed' });
      const run = await ctx.store.get(runId);
      if (run) await ctx.notifier?.send({ event: 'failed', run, summary: `${record.runbook}: the run could not start: ${message}` });
      return null;
    }
    await ctx.store.update(runId, {
      outcome: 'running',
      startedAt: record.startedAt ?? new Date().toISOString(),
      worker: ctx.workerName,
      planHash: prepared.plan.planHash,
      runDir: prepared.runDir.path,
    });
    if (takeover) ctx.log(`remedy: run ${runId}: taken over by ${ctx.workerName}, resuming from its journal (${prepared.previous.length} events)`);
    const received = record.alert ? Date.parse(record.alert.receivedAt) : null;
    const progress = new ProgressSink(() => {
      const now = new Date();
      if (received !== null && !takeover) ctx.metrics?.firstCommand.observe((now.getTime() - received) / 1000);
      void ctx.store.update(runId, { firstCommandAt: now.toISOString() });
    });
    const leases = new RedisHostLeases({
      redis: ctx.redis,
      runId,
      owner: ctx.workerName,
      ttlMs: ctx.leaseTtlMs,
      // Lost to a newer holder: stop at once (the fencing check refuses the next mutation anyway).
      onLost: (host, why) => {
        ctx.log(`remedy: run ${runId}: ${why}; stopping`);
        ctx.metrics?.leasesLost.inc();
        cancel.abort();
      },
    });
    const stream = new RedisStreamSink(ctx.redis, runId, fence);
    const session = await runSession({
      plan: prepared.plan,
      inventory: prepared.inventory,
      strategy: strategyFor(ctx, record, cancel.signal),
      runDir: prepared.runDir,
      runId,
      session: { forks: DEFAULT_FORKS, output: 'jsonl' },
      resume: prepared.resume,
      previousEvents: prepared.previous,
      sinks: [stream, progress],
      console: SILENT_CONSOLE,
      signal: cancel.signal,
      leases,
    }).finally(() => leases.releaseAll());
    const { result, events } = session;
    // Taken over while this worker stalled: the run is the other worker's to record and notify.
    if (stream.fenced || leases.lost.size > 0 || !(await holdsRunFence(ctx.redis, runId, fence))) {
      ctx.log(`remedy: run ${runId}: another worker holds this run now; ${ctx.workerName} stopped without recording an outcome`);
      return null;
    }
    // A cancel ends a run interrupted, or refused when it was waiting for an approval.
    const outcome = cancel.signal.aborted && (result.outcome === 'interrupted' || result.outcome === 'refused') ? 'cancelled' : result.outcome;
    await ctx.store.finish(runId, {
      outcome,
      exitCode: result.exitCode,
      cause: result.cause,
      message: result.message ?? null,
      hosts: result.hosts,
      approval: null,
    });
    ctx.metrics?.runs.inc({ outcome });
    if (outcome === 'resolved' && record.decision.scopeId && record.decision.breakerWindowMs) {
      await ctx.safety.markResolved(record.decision.scopeId, runId, record.decision.breakerWindowMs);
    }
    const all = [...prepared.previous, ...events.events];
    const run = await ctx.store.get(runId);
    const event: NotifyEvent | undefined = record.decision.mode === 'plan' ? 'plan' : NOTIFY_ON[outcome];
    if (run && event) {
      const evidence = record.decision.mode === 'plan' ? { ...evidenceOf(all), plan: result.probe ?? null } : evidenceOf(all);
      await ctx.notifier?.send({
        event,
        run,
        summary: `${record.runbook}: ${outcome}${result.cause ? ` (cause ${result.cause})` : ''}${result.message ? `: ${result.message}` : ''}`,
        evidence,
      });
    }
    return result;
  } finally {
    ctx.running.delete(runId);
    ctx.metrics?.activeRuns.dec();
  }
}
