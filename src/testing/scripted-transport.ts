// The scripted fleet: a Transport per host (src/transport/types.ts) that answers each command
// from the test case's `returns` instead of a network. The executor does not tell a transport
// which step a command belongs to, so a StepTracker sink follows the event stream (step-start,
// host-start with its phase), which the executor emits before it sends anything. Lock scripts,
// properties writes and fetches are answered the way a healthy host would.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EventSink, RunEvent } from '../engine/events.js';
import type { Clock } from '../engine/timing.js';
import { UnreachableError } from '../errors.js';
import { selectHosts } from '../inventory/patterns.js';
import type { Host, Inventory } from '../inventory/types.js';
import { durationMs } from '../runbook/duration.js';
import type { ExecOptions, ExecResult, FetchResult, Transport } from '../transport/types.js';
import type { ReplyBody, ReplySequence, Returns } from './schema.js';

/** Time moves only when the executor sleeps or a scripted command takes time; nothing waits. */
export class FakeClock implements Clock {
  t = 0;
  readonly sleeps: number[] = [];
  now(): number {
    return this.t;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return;
    this.sleeps.push(ms);
    this.t += Math.max(0, ms);
  }
}

/** Where the run is, as far as commands are concerned: the current step and each host's phase. */
export class StepTracker implements EventSink {
  step: string | null = null;
  readonly #phase = new Map<string, 'run' | 'verify'>();

  write(event: RunEvent): void {
    if (event.type === 'step-start') {
      this.step = event.step;
      this.#phase.clear();
    } else if (event.type === 'host-start') {
      this.#phase.set(event.host, event.phase ?? 'run');
    }
  }

  phaseOf(host: string): 'run' | 'verify' {
    return this.#phase.get(host) ?? 'run';
  }

  async close(): Promise<void> {}
}

/** A `*` wildcard pattern over step ids (dots are ordinary characters). */
function stepMatcher(pattern: string): (id: string) => boolean {
  if (!pattern.includes('*')) return (id) => id === pattern;
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return (id) => re.test(id);
}

const REPLY_KEYS: ReadonlySet<string> = new Set(['stdout', 'stderr', 'exit_code', 'timeout', 'unreachable', 'duration', 'verify']);

function isReplyMap(value: unknown): value is Record<string, ReplySequence> {
  if (Array.isArray(value) || value === null || typeof value !== 'object') return false;
  return Object.keys(value).some((k) => !REPLY_KEYS.has(k));
}

/** A `returns` layer as a lookup: exact step ids before wildcards, so `*` defaults never shadow a named step. */
interface CompiledEntry {
  matches: (id: string) => boolean;
  /** One reply sequence for every host, or per host pattern (in the order written). */
  replies: ReplySequence | [string, ReplySequence][];
  perHost: boolean;
}

/** Layers are the file's `returns` (shared by its cases) and each case's: compiled once each. */
const compiledLayers = new WeakMap<Returns, CompiledEntry[]>();

function compileLayer(layer: Returns): CompiledEntry[] {
  let compiled = compiledLayers.get(layer);
  if (!compiled) {
    compiled = Object.entries(layer)
      .sort(([a], [b]) => Number(a.includes('*')) - Number(b.includes('*')))
      .map(([pattern, replies]) =>
        isReplyMap(replies)
          ? { matches: stepMatcher(pattern), replies: Object.entries(replies), perHost: true }
          : { matches: stepMatcher(pattern), replies, perHost: false },
      );
    compiledLayers.set(layer, compiled);
  }
  return compiled;
}

/** Replies in the order they are tried: the case's before the file's. */
export class ReplyBook {
  readonly #layers: CompiledEntry[][];
  readonly #inventory: Inventory;
  readonly #hostsOf = new Map<string, Set<string>>();
  readonly #found = new Map<string, ReplySequence | null>();

  constructor(layers: Returns[], inventory: Inventory) {
    this.#layers = layers.map(compileLayer);
    this.#inventory = inventory;
  }

  #selects(pattern: string, host: string): boolean {
    if (pattern === '*' || pattern === 'all' || pattern === host) return true;
    let set = this.#hostsOf.get(pattern);
    if (!set) {
      try {
        set = new Set(selectHosts(this.#inventory, pattern));
      } catch {
        set = new Set();
      }
      this.#hostsOf.set(pattern, set);
    }
    return set.has(host);
  }

  /** The reply sequence for a step on a host, or null when nothing is scripted. */
  find(step: string, host: string): ReplySequence | null {
    const key = `${step}\u0000${host}`;
    let found = this.#found.get(key);
    if (found === undefined) this.#found.set(key, (found = this.#lookup(step, host)));
    return found;
  }

  #lookup(step: string, host: string): ReplySequence | null {
    for (const layer of this.#layers) {
      for (const entry of layer) {
        if (!entry.matches(step)) continue;
        if (!entry.perHost) return entry.replies as ReplySequence;
        const byHost = entry.replies as [string, ReplySequence][];
        const exact = byHost.find(([p]) => p === host);
        if (exact) return exact[1];
        const hit = byHost.find(([p]) => this.#selects(p, host));
        if (hit) return hit[1];
      }
    }
    return null;
  }
}

/** A command as a host received it, with the step and phase it belongs to. */
export interface SentCommand {
  step: string;
  host: string;
  phase: 'run' | 'verify';
  command: string;
  /** Fake-clock time it started. */
  at: number;
}

function pick<T>(seq: T | T[], nth: number): T {
  if (!Array.isArray(seq)) return seq;
  return seq[Math.min(nth, seq.length - 1)] as T;
}

function done(partial: Partial<ExecResult>): ExecResult {
  return { exitCode: 0, signal: null, stdout: '', stderr: '', timedOut: false, truncated: false, durationMs: 0, ...partial };
}

export class ScriptedFleet {
  readonly sent: SentCommand[] = [];
  readonly #book: ReplyBook;
  readonly #tracker: StepTracker;
  readonly #clock: FakeClock;
  readonly #calls = new Map<string, number>();
  readonly #locks = new Set<string>();

  constructor(book: ReplyBook, tracker: StepTracker, clock: FakeClock) {
    this.#book = book;
    this.#tracker = tracker;
    this.#clock = clock;
  }

  get(host: Host): Transport {
    return {
      host: host.name,
      connect: async () => undefined,
      exec: (command, options) => this.#exec(host.name, command, options ?? {}),
      fetch: async (src: string, dest: string): Promise<FetchResult> => {
        const body = `scripted copy of ${host.name}:${src}\n`;
        mkdirSync(dirname(dest), { recursive: true });
        writeFileSync(dest, body);
        return { bytes: Buffer.byteLength(body), sha256: createHash('sha256').update(body).digest('hex') };
      },
      close: async () => undefined,
    };
  }

  async #exec(host: string, command: string, options: ExecOptions): Promise<ExecResult> {
    // Lock scripts and properties writes are the engine's own plumbing: a healthy host's answer.
    if (command.includes('remedy.lock')) return this.#lock(host, command);
    const step = this.#tracker.step ?? '';
    const phase = this.#tracker.phaseOf(host);
    // The properties write script (src/engine/actions/properties.ts writeScript): it reports the
    // sha256 of what it wrote, which the engine checks against the text it sent.
    if (options.stdin !== undefined && command.includes('mktemp "$f.remedy-XXXXXX"') && command.includes('sha256sum -- "$f"')) {
      const text = options.stdin.toString();
      return done({ stdout: `${createHash('sha256').update(text).digest('hex')}  file\n` });
    }
    this.sent.push({ step, host, phase, command, at: this.#clock.t });
    const key = `${step}\u0000${host}\u0000${phase}`;
    const nth = this.#calls.get(key) ?? 0;
    this.#calls.set(key, nth + 1);
    const seq = this.#book.find(step, host);
    let reply: ReplyBody = {};
    if (seq !== null) {
      // A verify check answers for the run it follows: the same entry of the step's sequence.
      const runs = this.#calls.get(`${step}\u0000${host}\u0000run`) ?? 1;
      const r = pick(seq, phase === 'verify' ? runs - 1 : nth);
      if (phase === 'verify') reply = r.verify !== undefined ? pick(r.verify, nth) : {};
      else reply = r;
    }
    if (reply.unreachable) throw new UnreachableError(host, 'unreachable (scripted)');
    const took = reply.timeout ? (options.timeoutMs ?? 0) : reply.duration !== undefined ? durationMs(reply.duration) : 0;
    this.#clock.t += took;
    const stdout = reply.stdout ?? '';
    const stderr = reply.stderr ?? '';
    if (stdout !== '') options.onStdout?.(Buffer.from(stdout));
    if (stderr !== '') options.onStderr?.(Buffer.from(stderr));
    if (reply.timeout)
      return done({
        exitCode: null,
        signal: 'TERM',
        stdout,
        stderr,
        timedOut: true,
        durationMs: took,
        kill: { via: 'the scripted host', signals: ['TERM'], left: [] },
      });
    return done({ exitCode: reply.exit_code ?? 0, stdout, stderr, durationMs: took });
  }

  #lock(host: string, command: string): ExecResult {
    if (command.includes('grep -qF')) {
      this.#locks.delete(host);
      return done({});
    }
    this.#locks.add(host);
    return done({ stdout: 'REMEDY_LOCK_ACQUIRED\n' });
  }
}
