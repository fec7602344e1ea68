// Running a plan in a run directory, for any front end: journal, result.json, report.md, the
// console view, transports, Ctrl-C, and the record completed before connections close.
import { setMaxListeners } from 'node:events';
import type { TransportSource } from '../engine/context.js';
import { MemorySink, NoticeRelay } from '../engine/emitter.js';
import type { EventSink, RunEvent } from '../engine/events.js';
import { executePlan, type RunResult } from '../engine/executor.js';
import type { HostLeases } from '../engine/lease.js';
import type { ResumePoint } from '../engine/resume-point.js';
import type { Strategy } from '../engine/strategy.js';
import type { Inventory } from '../inventory/types.js';
import { JournalSink } from '../journal/journal.js';
import { ResultSink } from '../journal/result.js';
import type { RunDir } from '../journal/run-dir.js';
import type { Plan } from '../plan/types.js';
import { Redactor } from '../redact/redactor.js';
import { createConsoleSink, type ConsoleSink } from '../ui/console.js';
import { installInterruptHandlers } from './interrupt.js';
import { osUser, type SessionOptions } from './options.js';
import { createTransportPool } from './transports.js';

export interface SessionRequest {
  plan: Plan;
  inventory: Inventory;
  strategy: Strategy;
  runDir: RunDir;
  runId: string;
  session: SessionOptions;
  resume?: ResumePoint | undefined;
  /** Events of the earlier segments (resume), so result.json covers the whole run. */
  previousEvents?: RunEvent[] | undefined;
  /** Extra sinks. */
  sinks?: EventSink[] | undefined;
  /** The console view, when the caller needs its pause()/resume() (guided prompts). */
  console?: ConsoleSink | undefined;
  /** Cancels the run as SIGTERM would (no new work, running commands killed): `remedy serve`'s cancel. */
  signal?: AbortSignal | undefined;
  /** The transports to use instead of SSH ones built from the session options (tests). */
  transports?: (TransportSource & { closeAll(): Promise<void> }) | undefined;
  /** Host leases with fencing tokens (`remedy serve`'s workers). */
  leases?: HostLeases | undefined;
}

/** Runs a plan in a run directory: journal, result.json, report.md, console, transports, Ctrl-C. */
export async function runSession(req: SessionRequest): Promise<{ result: RunResult; events: MemorySink }> {
  const { plan, runDir, session } = req;
  const redactor = new Redactor(plan.secrets);
  // Every event resume depends on is fsync'd at once; read-only host events share one fsync
  // per 100 ms (a 100-host fan-out would otherwise pay 1000 fsyncs).
  const journal = new JournalSink(runDir.path, redactor, { durability: 'mutations' });
  const resultSink = new ResultSink(runDir.path, redactor);
  for (const ev of req.previousEvents ?? []) resultSink.write(ev);
  const memory = new MemorySink();
  const view = req.console ?? createConsoleSink({ output: session.output, tty: process.stdout.isTTY === true, redactor });
  view.history?.(req.previousEvents ?? []);
  const sinks: EventSink[] = [journal, resultSink, memory, view, ...(req.sinks ?? [])];
  const notices = new NoticeRelay();
  const pool = req.transports ?? createTransportPool(session, req.inventory, notices);
  const interrupt = installInterruptHandlers();
  const stop = req.signal ? AbortSignal.any([interrupt.stop, req.signal]) : interrupt.stop;
  const kill = req.signal ? AbortSignal.any([interrupt.kill, req.signal]) : interrupt.kill;
  setMaxListeners(0, stop, kill);
  try {
    const result = await executePlan({
      plan,
      inventory: req.inventory,
      transports: pool,
      strategy: req.strategy,
      sinks,
      runId: req.runId,
      runDir: runDir.path,
      user: osUser(),
      forks: session.forks,
      breakLock: session.breakLock,
      signal: stop,
      killSignal: kill,
      resume: req.resume,
      notices,
      leases: req.leases,
    });
    return { result, events: memory };
  } finally {
    // The record first (journal closed, result.json, report.md), connections after: closing a
    // connection to a host that stopped answering takes time, and a controller killed meanwhile
    // must leave a complete run directory behind.
    for (const sink of sinks) await sink.close().catch(() => undefined);
    try {
      // The report's modules load once the run is over, not before its first connection.
      const { writeReport } = await import('../journal/report.js');
      writeReport(runDir.path, { redactor });
    } catch (err) {
      process.stderr.write(`remedy: report.md not written: ${(err as Error).message}\n`);
    }
    interrupt.dispose();
    await pool.closeAll();
  }
}
