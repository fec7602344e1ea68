// remedy run: apply a runbook unattended. Never prompts: without --yes it runs the read-only
// diagnosis and stops before the first mutating step (exit 5), showing what it would have done.
// The session code here (sinks, transports, Ctrl-C, run dir) is shared with resume and guide.
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { userInfo } from 'node:os';
import { relative } from 'node:path';
import { type Command, Option } from 'commander';
import type { TransportSource } from '../../engine/context.js';
import { MemorySink, NoticeRelay } from '../../engine/emitter.js';
import type { EventSink, RunEvent } from '../../engine/events.js';
import { executePlan, checkPlanHash, DEFAULT_FORKS, type RunResult } from '../../engine/executor.js';
import type { HostLeases } from '../../engine/lease.js';
import type { ResumePoint } from '../../engine/resume-point.js';
import { UnattendedStrategy, type Strategy } from '../../engine/strategy.js';
import { UsageError } from '../../errors.js';
import type { Inventory } from '../../inventory/types.js';
import { writeJsonAtomic } from '../../journal/atomic.js';
import { JournalSink } from '../../journal/journal.js';
import { ResultSink } from '../../journal/result.js';
import { createRunDir, makeRunInputs, runTimestamp, writeRunInputs, type RunDir, type RunInputs } from '../../journal/run-dir.js';
import { planToJson } from '../../plan/index.js';
import type { Plan } from '../../plan/types.js';
import { Redactor } from '../../redact/redactor.js';
import { defaultKnownHostsFile, TransportPool } from '../../transport/index.js';
import { createConsoleSink, type ConsoleSink } from '../../ui/console.js';
import { colorEnabled, colors } from '../../ui/format.js';
import { action } from '../exit.js';
import { collect, DECIDE_WITHOUT_EXCLUDED_HELP, planFromFiles } from '../load-inputs.js';
import { resumeHint } from '../resume-hint.js';

export const OUTPUTS = ['text', 'jsonl'] as const;
export type OutputFormat = (typeof OUTPUTS)[number];

/** Options every command that runs a plan shares (run, resume, guide). */
export interface SessionOptions {
  forks: number;
  output: OutputFormat;
  knownHosts?: string | undefined;
  acceptNewHostKeys?: boolean | undefined;
  breakLock?: boolean | undefined;
  /** --server-alive-interval (seconds, 0 = off) and --server-alive-count-max, over the inventory's. */
  serverAliveInterval?: number | undefined;
  serverAliveCountMax?: number | undefined;
}

export function parseForks(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--forks: expected a whole number of hosts (1 or more), got "${value}"`);
  return n;
}

export function wholeNumberOption(flag: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag}: expected a whole number from ${min} to ${max}, got "${value}"`);
    return n;
  };
}

/** The session options on a command, in one place. */
export function addSessionOptions(cmd: Command): Command {
  return cmd
    .option('--forks <n>', 'hosts worked on at once', parseForks, DEFAULT_FORKS)
    .addOption(new Option('--output <format>', 'console output: text (live view on a TTY, plain lines otherwise) or jsonl (events for machines)').choices(OUTPUTS).default('text'))
    .option('--known-hosts <file>', 'known_hosts file to verify host keys against (besides ~/.ssh/known_hosts); new keys accepted by --accept-new-host-keys are recorded in it')
    .option('--accept-new-host-keys', 'accept and record keys of hosts never seen before (a changed key is always refused)')
    .option('--operator <name>', 'who is running this, recorded with every approval (default: the OS user)')
    .option('--break-lock', 'remove a host lock left by another run (a stale one), recording whose it was')
    .option(
      '--server-alive-interval <seconds>',
      'SSH keepalive probe interval for every host (0 = off), over the inventory\'s ansible_ssh_common_args / ssh_config ServerAliveInterval; default 15. A host silent for interval × count (default 15 s × 3 = 45 s) is declared unreachable and its connection destroyed',
      wholeNumberOption('--server-alive-interval', 0, 86_400),
    )
    .option('--server-alive-count-max <n>', 'unanswered keepalive probes before a host is declared unreachable (default 3; ServerAliveCountMax)', wholeNumberOption('--server-alive-count-max', 1, 1000));
}

export function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

export function newRunId(now = new Date()): string {
  return `${runTimestamp(now)}-${randomBytes(3).toString('hex')}`;
}

/**
 * Ctrl-C: the first one stops scheduling new work and lets running commands finish; the second
 * kills them (their remote process groups). SIGTERM does both at once. listr2 never sees them.
 */
export function installInterruptHandlers(stderr: NodeJS.WritableStream = process.stderr): { stop: AbortSignal; kill: AbortSignal; dispose(): void } {
  const stop = new AbortController();
  const kill = new AbortController();
  // Every running command listens to these (one listener per exec): hundreds at once is normal.
  setMaxListeners(0, stop.signal, kill.signal);
  const onInt = (): void => {
    if (!stop.signal.aborted) {
      stop.abort();
      stderr.write('\nremedy: interrupted: no new work is started; running commands finish (Ctrl-C again to kill them)\n');
    } else if (!kill.signal.aborted) {
      kill.abort();
      stderr.write('\nremedy: killing running commands\n');
    }
  };
  const onTerm = (): void => {
    stop.abort();
    kill.abort();
  };
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    stop: stop.signal,
    kill: kill.signal,
    dispose: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}


/** SSH (and local) transports as the session options say; host-key notices go to the run's events. */
export function createTransportPool(
  session: Pick<SessionOptions, 'knownHosts' | 'acceptNewHostKeys' | 'serverAliveInterval' | 'serverAliveCountMax'>,
  inventory: Inventory,
  notices: NoticeRelay,
): TransportPool {
  return new TransportPool({
    keepalive: {
      intervalMs: session.serverAliveInterval !== undefined ? session.serverAliveInterval * 1000 : undefined,
      countMax: session.serverAliveCountMax,
    },
    knownHostsFiles: session.knownHosts !== undefined ? [session.knownHosts, defaultKnownHostsFile()] : undefined,
    acceptNewHostKeys: session.acceptNewHostKeys,
    passphrase: process.env.REMEDY_SSH_PASSPHRASE,
    inventory,
    onNotice: (message) => notices.push(message),
  });
}

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
  // per event-loop turn (a 100-host fan-out would otherwise pay 1000 fsyncs).
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
      const { writeReport } = await import('../../journal/report.js');
      writeReport(runDir.path, { redactor });
    } catch (err) {
      process.stderr.write(`remedy: report.md not written: ${(err as Error).message}\n`);
    }
    interrupt.dispose();
    await pool.closeAll();
  }
}

/** After a run (the console view printed the recap): what a refusal would have done, where the record is. */
export function printSummary(result: RunResult, events: RunEvent[], runDir: RunDir, output: OutputFormat, plan: Plan): void {
  if (output === 'jsonl') return;
  const hint = resumeHint(plan, runDir);
  const err = process.stderr;
  const c = colors(colorEnabled(err));
  const refusal =
    result.outcome === 'refused' ? [...events].reverse().find((e): e is Extract<RunEvent, { type: 'approval' }> => e.type === 'approval' && e.decision !== 'approved') : undefined;
  if (refusal) {
    err.write(`\n${c.bold('Refused')} step ${refusal.step} on ${refusal.hosts.join(', ')}. It would have run:\n`);
    for (const cmd of refusal.commands ?? []) err.write(`  ${cmd.host}: ${cmd.command}\n`);
    for (const [host, diff] of Object.entries(refusal.diffs ?? {})) err.write(`  ${host}:\n${diff.replace(/^/gm, '    ')}\n`);
    err.write(`Review, then apply with --yes (and --plan-hash ${result.planHash} to apply exactly this plan)${hint ? `, or \`${hint}\`` : ''}.\n`);
  } else if (result.message) err.write(`${result.message}\n`);
  err.write(`${c.dim(`run directory: ${relative(process.cwd(), runDir.path) || '.'}`)}\n`);
  if (!refusal && hint && result.outcome !== 'resolved' && result.outcome !== 'nothing-to-do' && result.outcome !== 'escalated') err.write(`${c.dim(`continue it with: ${hint}`)}\n`);
}

interface RunCliOptions {
  serverAliveInterval?: number;
  serverAliveCountMax?: number;
  inventory: string;
  limit?: string;
  decideWithoutExcludedHosts?: boolean;
  extraVar: string[];
  yes?: boolean;
  planHash?: string;
  forks: number;
  runDir?: string;
  output: OutputFormat;
  knownHosts?: string;
  acceptNewHostKeys?: boolean;
  operator?: string;
  breakLock?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('run')
    .description('Apply a runbook unattended: diagnose, decide, fix, verify, with a journal and an exit code a caller can act on. Never prompts; mutating steps need --yes.')
    .argument('<runbook>', 'runbook name (finds runbooks/**/<name>.yaml) or path')
    .requiredOption('-i, --inventory <file>', 'Ansible inventory (YAML or INI)')
    .option('-l, --limit <pattern>', 'restrict to hosts matching an Ansible pattern (one that matches no host is refused, exit 64)')
    .option(...DECIDE_WITHOUT_EXCLUDED_HELP)
    .option('-e, --extra-var <key=value>', 'set a param (repeatable; @file.yaml for a map)', collect, [])
    .option('-y, --yes', 'apply mutating steps (without it the run stops before the first one, exit 5)')
    .option('--plan-hash <hash>', 'refuse to start unless the plan is exactly the one approved (its hash from `remedy plan`)')
    .option('--run-dir <dir>', 'where the journal, outputs and artifacts go (default runs/<UTC time>-<runbook>/)');
  addSessionOptions(cmd)
    .addHelpText(
      'after',
      '\nExamples:\n  remedy run apigee-502-bad-gateway -i inventory/example.yaml            # diagnosis only, exit 5 before any change\n  remedy run apigee-502-bad-gateway -i prod.yaml --yes --plan-hash sha256:…\n',
    )
    .action(
      action(async (runbook: string, opts: RunCliOptions) => {
        const inputs = planFromFiles(runbook, { inventory: opts.inventory, extraVars: opts.extraVar, limit: opts.limit, decideWithoutExcludedHosts: opts.decideWithoutExcludedHosts });
        const { plan } = inputs;
        // Before anything is created or contacted.
        checkPlanHash(plan, opts.planHash);
        const runDir = createRunDir({ runbook: plan.runbook, runDir: opts.runDir });
        const runInputs: RunInputs = makeRunInputs({
          runbook,
          runbookFile: inputs.loaded.file,
          inventory: opts.inventory,
          overrides: inputs.overrides,
          secretParams: plan.secretParams,
          limit: opts.limit,
          planHash: plan.planHash,
          options: { mode: 'unattended', forks: opts.forks, knownHosts: opts.knownHosts, acceptNewHostKeys: opts.acceptNewHostKeys, yes: opts.yes === true },
        });
        writeRunInputs(runDir, runInputs);
        writeJsonAtomic(runDir.plan, new Redactor(plan.secrets).redactValue(planToJson(plan)));
        const operator = opts.operator ?? osUser();
        const { result, events } = await runSession({
          plan,
          inventory: inputs.inventory,
          strategy: new UnattendedStrategy({ yes: opts.yes === true, operator }),
          runDir,
          runId: newRunId(),
          session: opts,
        });
        printSummary(result, events.events, runDir, opts.output, plan);
        return result.exitCode;
      }),
    );
}
