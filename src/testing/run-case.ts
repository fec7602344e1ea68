// One test case through the real planner and executor: the runbook and inventory as `remedy run`
// loads them, an unattended strategy (--yes unless the case says otherwise), the scripted fleet
// instead of SSH and a fake clock instead of time. What the run shows is gathered into an
// Observation the assertions read.
import { accessSync, constants, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { MemorySink } from '../engine/emitter.js';
import type { FinalHostStatus, HostStatus, RunEvent, RunOutcome } from '../engine/events.js';
import { executePlan } from '../engine/executor.js';
import { UnattendedStrategy } from '../engine/strategy.js';
import { loadInventory, parseInventory } from '../inventory/load.js';
import type { Inventory } from '../inventory/types.js';
import { planRunbook } from '../plan/index.js';
import type { Plan } from '../plan/types.js';
import { loadRunbook, type LoadedRunbook } from '../runbook/index.js';
import { resolveRunbookRef } from '../runbook/resolve.js';
import { loadCache } from './load-cache.js';
import type { LoadedTestFile } from './load.js';
import type { TestCase } from './schema.js';
import { FakeClock, ReplyBook, ScriptedFleet, StepTracker, type SentCommand } from './scripted-transport.js';

/** `run.id` in every case, so rendered paths (backups, kept conf.d) are the same every time. */
export const TEST_RUN_ID = 'test-run';

/** What a run showed, in the terms assertions use. */
export interface Observation {
  cause: string | null;
  outcome: RunOutcome;
  exitCode: number;
  message: string;
  hosts: Record<string, FinalHostStatus>;
  /** Steps that ran, in order of first start (host steps on some host, decide/outcome steps on the controller). */
  ran: string[];
  /** Steps skipped as a whole (step-skip). */
  skipped: string[];
  /** Steps refused at approval. */
  refused: string[];
  /** Last host-end status per step and host. */
  statuses: Record<string, Record<string, HostStatus>>;
  /** Per rolling step: the hosts of each batch that started. */
  batches: Record<string, string[][]>;
  commands: SentCommand[];
  /** Properties diffs per step and host (empty: nothing changed). */
  diffs: Record<string, Record<string, string>>;
  facts: Record<string, Record<string, unknown>>;
  events: RunEvent[];
  /** Fake-clock milliseconds the run took. */
  durationMs: number;
}

/** Loaded once per file: the runbook and inventories are shared by its cases. */
export class CaseInputs {
  readonly #file: LoadedTestFile;
  #runbook: LoadedRunbook | null = null;
  readonly #inventories = new Map<string, Inventory>();
  readonly #plans = new Map<Inventory, Map<string, Plan>>();

  readonly #loaded: Map<string, LoadedRunbook>;

  /**
   * `loaded`: runbooks already loaded in this suite, by absolute path. A runbook that loaded
   * without errors loaded its includes without errors too, and loading is a function of the
   * file, so the 502 runbook's file gives the five runbooks it includes to their own test files.
   */
  constructor(file: LoadedTestFile, loaded: Map<string, LoadedRunbook> = new Map()) {
    this.#file = file;
    this.#loaded = loaded;
  }

  get runbook(): LoadedRunbook {
    if (!this.#runbook) {
      const ref = resolveRunbookRef(this.#file.data.runbook, this.#file.file);
      let loaded = this.#loaded.get(ref);
      if (!loaded) {
        // Loaded and validated before, with the same files (load-cache.ts), or now.
        const cache = loadCache();
        loaded = cache.runbook(ref) ?? cache.putRunbook(loadRunbook(ref).loaded);
        const remember = (r: LoadedRunbook): void => {
          if (this.#loaded.has(r.file)) return;
          this.#loaded.set(r.file, r);
          for (const child of r.includes.values()) remember(child);
        };
        remember(loaded);
      }
      this.#runbook = loaded;
    }
    return this.#runbook;
  }

  /** Cases with the same inventory, params and --limit share one plan (planning is pure; the executor does not change it). */
  plan(inventory: Inventory, overrides: Record<string, string>, limit: string | undefined): Plan {
    let byInputs = this.#plans.get(inventory);
    if (!byInputs) this.#plans.set(inventory, (byInputs = new Map()));
    const key = JSON.stringify([Object.entries(overrides).sort(), limit ?? null]);
    let plan = byInputs.get(key);
    if (!plan) byInputs.set(key, (plan = planRunbook({ loaded: this.runbook, inventory, overrides, limit })));
    return plan;
  }

  inventory(ref: string | Record<string, unknown>, label: string): Inventory {
    const key = typeof ref === 'string' ? `path:${ref}` : `inline:${label}`;
    let inv = this.#inventories.get(key);
    if (!inv) {
      inv =
        typeof ref === 'string'
          ? sharedInventory(resolve(dirname(this.#file.file), ref))
          : parseInventory(stringify(ref), `${this.#file.display} (${label})`, { format: 'yaml' });
      this.#inventories.set(key, inv);
    }
    return inv;
  }
}

/**
 * Inventory files read in this process, by path: the shipped suites all name one inventory, and
 * reading it (YAML, Ansible's merging) cost more than some of the cases. Reused only while the
 * file has the same size, mtime and inode, and only while pristine: a plan that asked for
 * Ansible's implicit localhost adds it to the inventory, and another test file must not see that.
 */
const inventories = new Map<string, { stamp: string; inventory: Inventory; hosts: number }>();
function sharedInventory(path: string): Inventory {
  let stamp: string;
  try {
    const st = statSync(path);
    if (!st.isFile()) return loadInventory(path);
    stamp = `${st.size}:${st.mtimeMs}:${st.ino}`;
  } catch {
    return loadInventory(path); // says what is wrong with the path
  }
  const known = inventories.get(path);
  if (known && known.stamp === stamp && known.inventory.hosts.size === known.hosts) return known.inventory;
  const inventory = loadInventory(path);
  inventories.set(path, { stamp, inventory, hosts: inventory.hosts.size });
  return inventory;
}

/** What decides a case's plan, as text: cases with the same key share one plan (CaseInputs.plan). */
export function planKey(file: LoadedTestFile, index: number): string {
  const c = file.data.cases[index] as TestCase;
  const params = Object.entries({ ...(file.data.params ?? {}), ...(c.params ?? {}) }).map(([k, v]) => [k, String(v)]);
  return JSON.stringify([c.inventory !== undefined ? `case ${index}` : file.data.inventory, params.sort(), c.limit ?? file.data.limit ?? null]);
}

export function planCase(inputs: CaseInputs, file: LoadedTestFile, index: number): { plan: Plan; inventory: Inventory } {
  const c = file.data.cases[index] as TestCase;
  const inventory = c.inventory !== undefined ? inputs.inventory(c.inventory, `cases[${index}].inventory`) : inputs.inventory(file.data.inventory, 'inventory');
  const params = { ...(file.data.params ?? {}), ...(c.params ?? {}) };
  const overrides = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));
  const limit = c.limit ?? file.data.limit;
  const plan = inputs.plan(inventory, overrides, limit);
  return { plan, inventory };
}

export async function runCase(inputs: CaseInputs, file: LoadedTestFile, index: number): Promise<{ observation: Observation; inventory: Inventory }> {
  const c = file.data.cases[index] as TestCase;
  const { plan, inventory } = planCase(inputs, file, index);
  const clock = new FakeClock();
  const tracker = new StepTracker();
  const book = new ReplyBook([c.returns ?? {}, file.data.returns ?? {}], inventory);
  const fleet = new ScriptedFleet(book, tracker, clock);
  const memory = new MemorySink();
  // Fetch steps need a run directory for their artifacts (without one they are skipped): a
  // temporary one, removed after. Other plans run without, so nothing touches the disk.
  const fetches = plan.steps.some((s) => s.kind === 'fetch' || s.rollback.some((r) => r.kind === 'fetch'));
  const runDir = fetches ? caseRunDir() : null;
  const result = await executePlan({
    plan,
    inventory,
    transports: fleet,
    strategy: new UnattendedStrategy({ yes: c.yes ?? true, operator: 'remedy-test' }),
    sinks: [tracker, memory],
    runId: TEST_RUN_ID,
    runDir,
    keepOutputs: false,
    user: 'remedy-test',
    controller: 'remedy-test',
    clock,
  });
  return { observation: observe(result, memory.events, fleet.sent, clock.t), inventory };
}

let scratch: string | null = null;
let cases = 0;

/**
 * Scratch directories of earlier `remedy test` processes that no longer run: one killed by a
 * signal never reached its exit handler, and /dev/shm is memory. Only ours (same user), only
 * named with the pid of a process that is gone.
 */
function sweepLeftovers(root: string): void {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return;
  }
  const uid = process.getuid?.();
  for (const name of names) {
    const m = /^remedy-test-(\d+)-/.exec(name);
    if (!m || Number(m[1]) === process.pid || running(Number(m[1]))) continue;
    const path = join(root, name);
    try {
      if (uid !== undefined && statSync(path).uid !== uid) continue;
      rmSync(path, { recursive: true, force: true });
    } catch {
      // Gone already, or not ours to remove.
    }
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Where case run directories go: RAM (/dev/shm) where there is one, else the temporary
 * directory. What a case writes (a few fetched files, a bundle) is thrown away, and a disk
 * shared with other work made each directory made and removed cost milliseconds.
 */
function scratchRoot(): string {
  try {
    accessSync(SHM, constants.W_OK | constants.X_OK);
    if (statSync(SHM).isDirectory()) return SHM;
  } catch {
    // No /dev/shm (not Linux, or a container without it).
  }
  return tmpdir();
}
const SHM = '/dev/shm';

/**
 * A run directory for one case, inside one private (0700) directory per process (per worker
 * thread) that is removed, whole, when it ends: a case costs no removal of its own. The case's
 * directory is made only when a fetch writes into it (most cases of a plan with fetch steps never
 * reach one).
 */
function caseRunDir(): string {
  if (scratch === null) {
    const root = scratchRoot();
    sweepLeftovers(root);
    const dir = mkdtempSync(join(root, `remedy-test-${process.pid}-`));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    scratch = dir;
  }
  return join(scratch, `case-${++cases}`);
}

export function observe(
  result: {
    cause: string | null;
    outcome: RunOutcome;
    exitCode: number;
    message?: string | undefined;
    hosts: Record<string, FinalHostStatus>;
    facts: Record<string, Record<string, unknown>>;
  },
  events: RunEvent[],
  commands: SentCommand[],
  durationMs: number,
): Observation {
  const ran: string[] = [];
  const mark = (step: string): void => {
    if (!ran.includes(step)) ran.push(step);
  };
  const skipped: string[] = [];
  const refused: string[] = [];
  const statuses: Record<string, Record<string, HostStatus>> = {};
  const batches: Record<string, string[][]> = {};
  const diffs: Record<string, Record<string, string>> = {};
  const runStatus = new Map<string, HostStatus>();
  for (const e of events) {
    switch (e.type) {
      case 'step-start':
        if (e.batch !== undefined) (batches[e.step] ??= []).push(e.hosts);
        break;
      case 'step-skip':
        if (!skipped.includes(e.step)) skipped.push(e.step);
        break;
      case 'host-end': {
        // A verify check that passes leaves the step's own status (changed); one that fails wins.
        const byHost = (statuses[e.step] ??= {});
        if (e.phase !== 'verify') runStatus.set(`${e.step}\u0000${e.host}`, e.status);
        const own = runStatus.get(`${e.step}\u0000${e.host}`) ?? e.status;
        byHost[e.host] = e.phase === 'verify' && e.status !== 'ok' ? e.status : own;
        if (e.status !== 'skipped' && e.attempt > 0) mark(e.step);
        if (e.diff !== undefined) (diffs[e.step] ??= {})[e.host] = e.diff;
        break;
      }
      case 'decision':
      case 'outcome':
      case 'bundle':
        mark(e.step);
        break;
      case 'approval':
        if (e.decision === 'refused' && !refused.includes(e.step)) refused.push(e.step);
        break;
      default:
        break;
    }
  }
  return {
    cause: result.cause,
    outcome: result.outcome,
    exitCode: result.exitCode,
    message: result.message ?? '',
    hosts: result.hosts,
    ran,
    skipped,
    refused,
    statuses,
    batches,
    commands,
    diffs,
    facts: result.facts,
    events,
    durationMs,
  };
}
