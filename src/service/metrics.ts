// Prometheus metrics (prom-client, one registry per process): runs by outcome, refusals by
// reason, queue depth, the alert → first remote command latency, budget and breaker trips, and
// on workers the runs in progress and the host leases lost to a takeover.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly runs = new Counter({
    name: 'remedy_runs_total',
    help: 'Runs that ended, by outcome (refused includes policy refusals)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly refusals = new Counter({
    name: 'remedy_policy_refusals_total',
    help: 'Alerts refused before enqueue, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly budgetTrips = new Counter({
    name: 'remedy_budget_exhausted_total',
    help: 'Runs refused because the budget was used up',
    registers: [this.registry],
  });
  readonly breakerTrips = new Counter({
    name: 'remedy_breaker_trips_total',
    help: 'Breakers tripped by an alert recurring after a resolved run',
    registers: [this.registry],
  });
  readonly leasesLost = new Counter({
    name: 'remedy_leases_lost_total',
    help: 'Host leases a worker found taken over or expired (the run stopped on that worker)',
    registers: [this.registry],
  });
  readonly activeRuns = new Gauge({ name: 'remedy_worker_active_runs', help: 'Runs this process is executing now', registers: [this.registry] });
  readonly alerts = new Counter({
    name: 'remedy_alerts_received_total',
    help: 'Alerts received, by source and status',
    labelNames: ['source', 'status'] as const,
    registers: [this.registry],
  });
  readonly firstCommand = new Histogram({
    name: 'remedy_alert_to_first_command_seconds',
    help: 'From receiving the alert to the first remote command of its run',
    buckets: [0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });
  readonly queueDepth: Gauge<'queue' | 'state'>;

  constructor(depth: () => Promise<Record<string, Record<string, number>>>) {
    collectDefaultMetrics({ register: this.registry, prefix: 'remedy_process_' });
    this.queueDepth = new Gauge({
      name: 'remedy_queue_jobs',
      help: 'Jobs per queue and state (waiting, active, delayed)',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const [queue, counts] of Object.entries(await depth())) for (const [state, n] of Object.entries(counts)) this.set({ queue, state }, n);
      },
    });
  }
}
