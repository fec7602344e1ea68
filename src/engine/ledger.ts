// What each step did on each host, as the run's own events say: the source of `steps` in outcome
// messages and conditions, and of the hosts a needed fix never reached (not remediated). Fed
// from the executor's events (and, on resume, from the journal), so it can never claim more than
// was recorded.
import type { HostStatus, RunEvent } from './events.js';

/** A step as a template or condition sees it; `not-run` when the run never reached it. */
export const STEP_RUN_STATUSES = ['ok', 'failed', 'skipped', 'partial', 'not-run'] as const;
export type StepRunStatus = (typeof STEP_RUN_STATUSES)[number];

export interface StepView {
  status: StepRunStatus;
  /** How each host ended the step. */
  hosts: Record<string, HostStatus>;
  /** Hosts where the step succeeded (changed or not). */
  ok: string[];
  /** Of those, hosts where it changed something. */
  changed: string[];
  /** Hosts it skipped (condition false, not approved, optional file absent, …). */
  skipped: string[];
  /** Hosts where it failed or timed out. */
  failed: string[];
  unreachable: string[];
}

export interface LedgerSnapshot {
  steps: Record<string, { status: Exclude<StepRunStatus, 'not-run'> | null; hosts: Record<string, HostStatus> }>;
  /** Per host, the mutating steps it needed and never got (declined, not approved, refused). */
  declined: Record<string, string[]>;
  /** Per host, the steps that failed on it while the run went on (on_failure: continue, skipped). */
  tolerated?: Record<string, string[]> | undefined;
  /**
   * Per step, hosts where some attempt changed something: a change whose verification the
   * resumed segment finishes (re-checked, not re-run) is still the earlier segment's change.
   */
  changed?: Record<string, string[]> | undefined;
}

const APPROVAL_SKIP = 'skipped at approval';

export class StepLedger {
  readonly #status = new Map<string, Exclude<StepRunStatus, 'not-run'> | null>();
  readonly #hosts = new Map<string, Map<string, HostStatus>>();
  /** host → steps whose needed change it did not get. */
  readonly #declined = new Map<string, Set<string>>();
  /** host → steps that failed on it while the run went on past them. */
  readonly #tolerated = new Map<string, Set<string>>();
  /** Mutating steps that are not part of the fix (`skippable: true`): declining them costs nothing. */
  #skippable: ReadonlySet<string> = new Set();
  /** (step, host) pairs where some attempt changed something (the final host-end may be the verify). */
  readonly #changed = new Set<string>();
  /** Inventory order, so lists read as the fleet does, not in completion order. */
  #order = new Map<string, number>();
  /** Bumped by every change: a view computed at this version is still true. */
  #version = 0;
  readonly #views = new Map<string, { version: number; view: StepView }>();
  /** `steps` objects by the prefix of the step reading them (scopeFor), for the step ids they were made for. */
  readonly #scopes = new Map<string, { ids: readonly string[]; scope: Record<string, StepView> }>();

  configure(options: { skippable?: Iterable<string>; hostOrder?: readonly string[] }): void {
    this.#version++;
    if (options.skippable) this.#skippable = new Set(options.skippable);
    if (options.hostOrder) this.#order = new Map(options.hostOrder.map((h, i) => [h, i]));
  }

  add(ev: RunEvent): void {
    switch (ev.type) {
      case 'step-start':
      case 'step-skip':
      case 'step-end':
      case 'host-end':
      case 'approval':
        this.#version++;
        break;
      default:
        return;
    }
    switch (ev.type) {
      case 'step-start':
        // A new visit (or the first batch) starts over; later batches add to it.
        if (ev.rollbackOf === undefined && (ev.batch === undefined || ev.batch === 1)) {
          this.#status.set(ev.step, null);
          if (!this.#hosts.has(ev.step)) this.#hosts.set(ev.step, new Map());
        }
        break;
      case 'step-skip':
        this.#status.set(ev.step, 'skipped');
        break;
      case 'step-end':
        this.#status.set(ev.step, ev.status);
        for (const h of ev.tolerated ?? []) this.#tolerate(h, ev.step);
        break;
      case 'host-end': {
        const key = `${ev.step}\u0000${ev.host}`;
        if (ev.status === 'changed') this.#changed.add(key);
        if (ev.final !== true) break;
        let hosts = this.#hosts.get(ev.step);
        if (!hosts) this.#hosts.set(ev.step, (hosts = new Map()));
        hosts.set(ev.host, ev.status === 'ok' && this.#changed.has(key) ? 'changed' : ev.status);
        if (ev.status === 'skipped' && ev.reason === APPROVAL_SKIP) this.#decline(ev.host, ev.step);
        if (ev.status === 'ok' || ev.status === 'changed') {
          // A later visit of the step that succeeded on the host supersedes what it lacked before.
          this.#declined.get(ev.host)?.delete(ev.step);
          this.#tolerated.get(ev.host)?.delete(ev.step);
        }
        break;
      }
      case 'approval':
        if (ev.decision !== 'approved') for (const h of ev.hosts) this.#decline(h, ev.step);
        break;
      default:
        break;
    }
  }

  #decline(host: string, step: string): void {
    if (this.#skippable.has(step)) return;
    let steps = this.#declined.get(host);
    if (!steps) this.#declined.set(host, (steps = new Set()));
    steps.add(step);
  }

  #tolerate(host: string, step: string): void {
    let steps = this.#tolerated.get(host);
    if (!steps) this.#tolerated.set(host, (steps = new Set()));
    steps.add(step);
  }

  /** Steps that failed on the host while the run went on (on_failure: continue, or skipped by the operator). */
  toleratedFor(host: string): string[] {
    return [...(this.#tolerated.get(host) ?? [])];
  }

  /** Mutating steps the host needed and did not get; empty when it got every one. */
  declinedFor(host: string): string[] {
    return [...(this.#declined.get(host) ?? [])];
  }

  view(id: string): StepView {
    const status = this.#status.get(id);
    const rank = (h: string): number => this.#order.get(h) ?? Number.MAX_SAFE_INTEGER;
    const hosts = Object.fromEntries([...(this.#hosts.get(id) ?? [])].sort(([a], [b]) => rank(a) - rank(b)));
    const where = (...s: HostStatus[]): string[] =>
      Object.entries(hosts)
        .filter(([, v]) => s.includes(v))
        .map(([h]) => h);
    return {
      status: status === undefined ? 'not-run' : (status ?? 'ok'),
      hosts,
      ok: where('ok', 'changed'),
      changed: where('changed'),
      skipped: where('skipped'),
      failed: where('failed', 'timed-out'),
      unreachable: where('unreachable'),
    };
  }

  /** The view of a step as the ledger is now (computed again only after a change). */
  #currentView(id: string): StepView {
    const cached = this.#views.get(id);
    if (cached !== undefined && cached.version === this.#version) return cached.view;
    const view = this.view(id);
    this.#views.set(id, { version: this.#version, view });
    return view;
  }

  /**
   * `steps` as a step sees it: every plan step by its qualified id and, for steps of the same
   * include level, by the id written in its own runbook (`heap_dump` inside `busy_dumps`).
   * Views are computed when read (a condition evaluated on 500 hosts rarely reads them) and
   * always as the ledger is at that moment; the object itself is made once per include level,
   * not once per host and step that reads it.
   */
  scopeFor(stepIds: readonly string[], from: string | null): Record<string, StepView> {
    const dot = from === null ? -1 : from.lastIndexOf('.');
    const prefix = dot >= 0 ? (from as string).slice(0, dot + 1) : '';
    const known = this.#scopes.get(prefix);
    if (known !== undefined && sameIds(known.ids, stepIds)) return known.scope;
    const scope: Record<string, StepView> = {};
    const define = (key: string, id: string): void => {
      Object.defineProperty(scope, key, { enumerable: true, configurable: true, get: () => this.#currentView(id) });
    };
    for (const id of stepIds) define(id, id);
    if (prefix !== '') for (const id of stepIds) if (id.startsWith(prefix)) define(id.slice(prefix.length), id);
    // The caller's list is kept, not copied: the executor passes one list per plan (never changed).
    this.#scopes.set(prefix, { ids: stepIds, scope });
    return scope;
  }

  snapshot(): LedgerSnapshot {
    const steps: LedgerSnapshot['steps'] = {};
    for (const [id, status] of this.#status) steps[id] = { status, hosts: Object.fromEntries(this.#hosts.get(id) ?? []) };
    for (const [id, hosts] of this.#hosts) steps[id] ??= { status: null, hosts: Object.fromEntries(hosts) };
    const declined: Record<string, string[]> = {};
    for (const [h, s] of this.#declined) if (s.size > 0) declined[h] = [...s];
    const tolerated: Record<string, string[]> = {};
    for (const [h, s] of this.#tolerated) if (s.size > 0) tolerated[h] = [...s];
    const changed: Record<string, string[]> = {};
    for (const key of this.#changed) {
      const [step, host] = key.split('\u0000') as [string, string];
      (changed[step] ??= []).push(host);
    }
    return { steps, declined, tolerated, changed };
  }

  restore(snapshot: LedgerSnapshot): void {
    this.#version++;
    for (const [id, s] of Object.entries(snapshot.steps)) {
      this.#status.set(id, s.status);
      this.#hosts.set(id, new Map(Object.entries(s.hosts)));
    }
    for (const [h, steps] of Object.entries(snapshot.declined)) for (const s of steps) this.#decline(h, s);
    for (const [h, steps] of Object.entries(snapshot.tolerated ?? {})) for (const s of steps) this.#tolerate(h, s);
    for (const [step, hosts] of Object.entries(snapshot.changed ?? {})) for (const h of hosts) this.#changed.add(`${step}\u0000${h}`);
  }
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The ledger a sequence of events builds (resume reads the journal through this). */
export function ledgerFromEvents(events: readonly RunEvent[], skippable: Iterable<string> = [], hostOrder: readonly string[] = []): StepLedger {
  const ledger = new StepLedger();
  ledger.configure({ skippable, hostOrder });
  for (const ev of events) ledger.add(ev);
  return ledger;
}
