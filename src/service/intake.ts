// Policy before queue: an alert is routed, then checked (dedupe, resolved, maintenance, breaker,
// cooldown, budget) and only then enqueued. A refusal is a run record with outcome `refused`
// and its reason, and a notification, never a silent drop.
import { durationMs } from '../runbook/duration.js';
import { newRunId } from '../session/options.js';
import type { Alert } from './alerts.js';
import type { Metrics } from './metrics.js';
import type { Notifier } from './notify.js';
import type { Policy, RouteMode, RoutePolicy } from './policy-schema.js';
import { jobIdFor, type Queues } from './queue.js';
import { findRoute, routeAlert, routeName, type RoutedRun } from './routing.js';
import type { Safety } from './safety.js';
import type { PolicyDecision, RunRecord, RunStore } from './store.js';

export type IntakeAction = 'enqueued' | 'deduped' | 'refused' | 'cancelled' | 'resolved' | 'unrouted';
export interface IntakeResult {
  fingerprint: string;
  action: IntakeAction;
  run?: string | undefined;
  reason?: string | undefined;
}

export interface IntakeDeps {
  policy: Policy;
  store: RunStore;
  safety: Safety;
  queues: Queues;
  notifier: Notifier | null;
  metrics: Metrics;
  log: (line: string) => void;
}

export interface ManualRunRequest {
  runbook: string;
  route?: string | undefined;
  params: Record<string, string>;
  limit?: string | undefined;
  mode?: RouteMode | undefined;
  requestedBy: string;
}

/** What a run record holds before any worker has taken it (alert-started and manual runs alike); a fresh object each time. */
const notStarted = () =>
  ({
    startedAt: null,
    endedAt: null,
    planHash: null,
    hosts: {},
    approval: null,
    worker: null,
    runDir: null,
    firstCommandAt: null,
  }) satisfies Partial<RunRecord>;

function decisionFor(route: RoutePolicy, name: string, routed: RoutedRun | null, reason: string | null): PolicyDecision {
  return {
    route: name,
    mode: route.mode,
    queue: route.queue,
    reason,
    scope: routed?.scope ?? null,
    scopeId: routed?.scopeId,
    breakerWindowMs: route.breaker === false ? null : durationMs(route.breaker.window),
    approvalTimeoutMs: durationMs(route.approval_timeout),
  };
}

export class Intake {
  private readonly d: IntakeDeps;
  constructor(d: IntakeDeps) {
    this.d = d;
  }

  async handle(alert: Alert): Promise<IntakeResult> {
    const { policy, safety, store } = this.d;
    this.d.metrics.alerts.inc({ source: alert.source, status: alert.status });
    const fingerprint = alert.fingerprint;
    if (alert.status === 'resolved') return this.#resolved(alert);
    const route = findRoute(policy, alert);
    if (!route) return { fingerprint, action: 'unrouted', reason: 'no route matches the alert labels' };
    // A late or regrouped copy of an episode that already resolved: neither a run nor a recurrence.
    if (await safety.endedEpisode(fingerprint, alert.startsAt)) {
      return {
        fingerprint,
        action: 'deduped',
        reason: `a repeat of the alert episode that started at ${alert.startsAt} and already resolved (regrouped or late notification): no new run, not a recurrence`,
      };
    }
    const runId = newRunId();
    // One run per fingerprint while it fires (atomic: 100 identical posts claim it once).
    const held = await safety.claimFiring(fingerprint, runId);
    if (held !== null) return { fingerprint, action: 'deduped', run: held };

    const name = routeName(policy, route);
    const receivedAt = new Date().toISOString();
    const base = (routed: RoutedRun | null, reason: string | null): RunRecord => ({
      id: runId,
      runbook: route.runbook,
      inventory: route.inventory,
      params: routed?.params ?? {},
      limit: routed?.limit ?? null,
      outcome: 'queued',
      exitCode: null,
      cause: null,
      message: reason,
      alert: { fingerprint, source: alert.source, status: alert.status, labels: alert.labels, annotations: alert.annotations, receivedAt },
      decision: decisionFor(route, name, routed, reason),
      ...notStarted(),
      createdAt: receivedAt,
    });
    const refuse = async (routed: RoutedRun | null, kind: string, reason: string, evidence?: unknown): Promise<IntakeResult> => {
      const record: RunRecord = { ...base(routed, reason), outcome: 'refused', exitCode: 5, endedAt: receivedAt };
      await store.create(record);
      this.d.metrics.runs.inc({ outcome: 'refused' });
      this.d.metrics.refusals.inc({ reason: kind });
      this.d.log(`remedy: alert ${fingerprint}: refused: ${reason}`);
      await this.d.notifier?.send({ event: 'refused', run: record, summary: `${route.runbook}: refused: ${reason}`, evidence });
      return { fingerprint, action: 'refused', run: runId, reason };
    };

    let routed: RoutedRun;
    try {
      routed = routeAlert(policy, route, alert);
    } catch (err) {
      return refuse(null, 'route', (err as Error).message);
    }
    const maintenance = safety.maintenance(policy, alert);
    if (maintenance) return refuse(routed, 'maintenance', maintenance);
    if (route.mode === 'auto') {
      const open = await safety.openBreaker(routed.scopeId);
      if (open) return refuse(routed, 'breaker', `breaker open since ${open.trippedAt} for ${open.scope} (reset: POST /api/breakers/${open.id}/reset)`, open);
    }
    const tripped = await safety.tripOnRecurrence(route, { id: routed.scopeId, route: name, scope: routed.scope, refusedRun: runId, fingerprint });
    if (tripped) {
      this.d.metrics.breakerTrips.inc();
      const reason = `breaker tripped: the alert fired again within ${route.breaker === false ? '' : route.breaker.window} of run ${tripped.resolvedRun}, which resolved it; auto-runs for ${routed.scope} stop until POST /api/breakers/${tripped.id}/reset`;
      const record = base(routed, reason);
      await this.d.notifier?.send({
        event: 'breaker-tripped',
        run: { ...record, outcome: 'refused' },
        summary: reason,
        evidence: { breaker: tripped, previousRun: await store.get(tripped.resolvedRun) },
      });
      if (route.mode === 'auto') return refuse(routed, 'breaker', reason, tripped);
    }
    const admission = await safety.admit(route, routed.scopeId, runId);
    if (!admission.ok) {
      if (admission.kind === 'budget') this.d.metrics.budgetTrips.inc();
      return refuse(routed, admission.kind, admission.reason);
    }
    await store.create(base(routed, null));
    const holder = await this.d.queues.add(route.queue, runId, jobIdFor(runId, fingerprint));
    if (holder !== runId) {
      const reason = `run ${holder} for this alert is still queued or running`;
      await store.finish(runId, { outcome: 'refused', exitCode: 5, message: reason, decision: decisionFor(route, name, routed, reason) });
      this.d.metrics.runs.inc({ outcome: 'refused' });
      return { fingerprint, action: 'refused', run: runId, reason };
    }
    return { fingerprint, action: 'enqueued', run: runId };
  }

  async #resolved(alert: Alert): Promise<IntakeResult> {
    const fingerprint = alert.fingerprint;
    const held = await this.d.safety.releaseFiring(fingerprint, alert.startsAt);
    if (held === null) return { fingerprint, action: 'resolved' };
    const run = await this.d.store.get(held);
    if (run && run.outcome === 'queued' && (await this.d.queues.removeWaiting(run.decision.queue, jobIdFor(run.id, fingerprint)))) {
      await this.d.store.finish(run.id, { outcome: 'cancelled', message: 'the alert resolved before the run started' });
      this.d.metrics.runs.inc({ outcome: 'cancelled' });
      return { fingerprint, action: 'cancelled', run: run.id };
    }
    return { fingerprint, action: 'resolved', run: held };
  }

  /** POST /api/runs: an operator's run of a runbook some route names (its inventory and queue). */
  async manual(req: ManualRunRequest): Promise<{ run: RunRecord } | { error: string }> {
    const route = this.d.policy.routes.find((r) => (req.route !== undefined ? routeName(this.d.policy, r) === req.route : r.runbook === req.runbook));
    if (!route)
      return { error: req.route !== undefined ? `no route named ${req.route}` : `no route runs ${req.runbook}: manual runs use a route's inventory and queue` };
    if (req.route !== undefined && route.runbook !== req.runbook) return { error: `route ${req.route} runs ${route.runbook}, not ${req.runbook}` };
    const id = newRunId();
    const now = new Date().toISOString();
    const mode = req.mode ?? route.mode;
    const record: RunRecord = {
      id,
      runbook: route.runbook,
      inventory: route.inventory,
      params: req.params,
      limit: req.limit ?? null,
      outcome: 'queued',
      exitCode: null,
      cause: null,
      message: null,
      alert: null,
      decision: { ...decisionFor({ ...route, mode }, routeName(this.d.policy, route), null, null), breakerWindowMs: null, requestedBy: req.requestedBy },
      ...notStarted(),
      createdAt: now,
    };
    await this.d.store.create(record);
    await this.d.queues.add(route.queue, id, jobIdFor(id, null));
    return { run: record };
  }
}
