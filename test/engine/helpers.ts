// Test doubles for the executor: real plans from small YAML runbooks (the real loader and
// planner), a scripted fleet of fake transports that records every command, a clock that
// records waits instead of sleeping, and a runner that collects the event stream.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { MemorySink } from '../../src/engine/emitter.js';
import type { RunEvent } from '../../src/engine/events.js';
import { executePlan, type ExecuteOptions, type RunResult } from '../../src/engine/executor.js';
import { UnattendedStrategy, type Strategy } from '../../src/engine/strategy.js';
import type { Clock } from '../../src/engine/timing.js';
import { UnreachableError } from '../../src/errors.js';
import { parseInventory } from '../../src/inventory/load.js';
import type { Host, Inventory } from '../../src/inventory/types.js';
import { planRunbook } from '../../src/plan/index.js';
import type { Plan } from '../../src/plan/types.js';
import { loadRunbook, parseExtraVars } from '../../src/runbook/index.js';
import type { ExecOptions, ExecResult, FetchResult, Transport } from '../../src/transport/types.js';

export const FLEET_INVENTORY = `
all:
  children:
    mps:
      hosts:
        mp1:
        mp2:
        mp3:
        mp4:
    routers:
      hosts:
        r1:
`;

// Every test file that imports these helpers removes its temporary directories when it ends
// (thousands of them were left in /tmp, slowing every later temp-file operation).
const created: string[] = [];
afterAll(() => {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix = 'remedy-engine-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

export function planOf(
  runbook: string,
  options: { inventory?: string; extraVars?: string[]; limit?: string } = {},
): { plan: Plan; inventory: Inventory; dir: string } {
  const dir = tempDir();
  const file = join(dir, 'rb.yaml');
  writeFileSync(file, runbook);
  const { loaded } = loadRunbook(file);
  const inventory = parseInventory(options.inventory ?? FLEET_INVENTORY, join(dir, 'inventory.yaml'));
  const plan = planRunbook({ loaded, inventory, overrides: parseExtraVars(options.extraVars ?? []), limit: options.limit });
  return { plan, inventory, dir };
}

export interface Reply {
  exitCode?: number | null;
  stdout?: string;
  stderr?: string;
  timedOut?: boolean;
  signal?: string | null;
}
export interface FakeCall {
  host: string;
  command: string;
  stdin?: string | undefined;
  timeoutMs?: number | undefined;
  /** The fake clock's time when the command started. */
  at: number;
}
export type Responder = Reply | 'unreachable' | ((call: FakeCall, nth: number) => Reply | 'unreachable' | Promise<Reply | 'unreachable'>);

interface Rule {
  match: RegExp | string;
  host?: string | undefined;
  reply: Responder;
  times: number;
  used: number;
}

/**
 * A fleet of fake transports. Rules are tried in the order given (specific ones first); `times` bounds how often a rule
 * answers. Unmatched commands exit 0 with no output. Lock scripts are simulated per host, so
 * lock tests see real contention.
 */
export class FakeFleet {
  readonly calls: FakeCall[] = [];
  readonly locks = new Map<string, string>();
  readonly fetched: { host: string; src: string; dest: string }[] = [];
  readonly #rules: Rule[] = [];
  readonly #clock: FakeClock | null;

  constructor(clock: FakeClock | null = null) {
    this.#clock = clock;
  }

  on(match: RegExp | string, reply: Responder, options: { host?: string; times?: number } = {}): this {
    this.#rules.push({ match, host: options.host, reply, times: options.times ?? Number.POSITIVE_INFINITY, used: 0 });
    return this;
  }

  /** Commands sent to a host (or every host), lock scripts left out. */
  commands(host?: string): string[] {
    return this.calls.filter((c) => (host === undefined || c.host === host) && !c.command.includes('remedy.lock')).map((c) => c.command);
  }

  get(host: Host): Transport {
    const exec = async (command: string, options: ExecOptions = {}): Promise<ExecResult> => {
      const call: FakeCall = { host: host.name, command, stdin: options.stdin?.toString(), timeoutMs: options.timeoutMs, at: this.#clock?.t ?? 0 };
      this.calls.push(call);
      await Promise.resolve();
      if (command.includes('remedy.lock')) return this.#lock(host.name, command);
      const rule = this.#rules.find(
        (r) =>
          r.used < r.times &&
          (r.host === undefined || r.host === host.name) &&
          (typeof r.match === 'string' ? command.includes(r.match) : r.match.test(command)),
      );
      let reply: Reply | 'unreachable' = {};
      if (rule) {
        rule.used++;
        reply = typeof rule.reply === 'function' ? await rule.reply(call, rule.used) : rule.reply;
      }
      if (reply === 'unreachable') throw new UnreachableError(host.name, 'connection refused (fake)');
      const stdout = reply.stdout ?? '';
      const stderr = reply.stderr ?? '';
      if (stdout) options.onStdout?.(Buffer.from(stdout));
      if (stderr) options.onStderr?.(Buffer.from(stderr));
      return {
        exitCode: reply.timedOut ? null : reply.exitCode === undefined ? 0 : reply.exitCode,
        signal: reply.signal ?? (reply.timedOut ? 'TERM' : null),
        stdout,
        stderr,
        timedOut: reply.timedOut ?? false,
        truncated: false,
        durationMs: 1,
      };
    };
    return {
      host: host.name,
      connect: async () => undefined,
      exec,
      fetch: async (src: string, dest: string): Promise<FetchResult> => {
        this.fetched.push({ host: host.name, src, dest });
        writeFileSync(dest, `fetched ${src}`);
        return { bytes: `fetched ${src}`.length, sha256: 'x' };
      },
      close: async () => undefined,
    };
  }

  #lock(host: string, command: string): ExecResult {
    const ok = (stdout: string): ExecResult => ({ exitCode: 0, signal: null, stdout, stderr: '', timedOut: false, truncated: false, durationMs: 1 });
    const owner = /printf '%s\\n' '(\{[^']*\})'/.exec(command)?.[1];
    if (command.includes('grep -qF')) {
      const ids = [...command.matchAll(/"runId":"([^"]+)"/g)].map((m) => m[1]);
      const held = this.locks.get(host);
      if (held && ids.some((id) => held.includes(`"runId":"${id}"`))) this.locks.delete(host);
      return ok('');
    }
    if (command.includes('if mkdir')) {
      const held = this.locks.get(host);
      if (held !== undefined) return ok(`REMEDY_LOCK_HELD\n${held}\n`);
      this.locks.set(host, owner ?? '');
      return ok('REMEDY_LOCK_ACQUIRED\n');
    }
    this.locks.set(host, owner ?? '');
    return ok('REMEDY_LOCK_ACQUIRED\n');
  }
}

/** Time only moves when the executor sleeps; every wait is recorded. */
export class FakeClock implements Clock {
  t = 0;
  readonly sleeps: number[] = [];
  now(): number {
    return this.t;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return;
    this.sleeps.push(ms);
    this.t += ms;
    await Promise.resolve();
  }
}

export interface Ran {
  result: RunResult;
  events: RunEvent[];
  of<T extends RunEvent['type']>(type: T): Extract<RunEvent, { type: T }>[];
}

export async function runPlan(
  plan: Plan,
  inventory: Inventory,
  fleet: FakeFleet,
  options: Partial<ExecuteOptions> & { yes?: boolean; strategy?: Strategy; sink?: MemorySink } = {},
): Promise<Ran> {
  const sink = options.sink ?? new MemorySink();
  const result = await executePlan({
    plan,
    inventory,
    transports: fleet,
    strategy: options.strategy ?? new UnattendedStrategy({ yes: options.yes ?? true, operator: 'tester' }),
    sinks: [sink],
    runId: options.runId ?? 'run-1',
    runDir: options.runDir ?? null,
    clock: options.clock ?? new FakeClock(),
    ...options,
  });
  return { result, events: sink.events, of: (type) => sink.events.filter((e) => e.type === type) as never };
}

/** host-end events of a step, by host (the last one each). */
export function lastEnds(ran: Ran, step: string): Map<string, Extract<RunEvent, { type: 'host-end' }>> {
  const out = new Map<string, Extract<RunEvent, { type: 'host-end' }>>();
  for (const e of ran.of('host-end')) if (e.step === step) out.set(e.host, e);
  return out;
}
