// Notifications: a JSON POST to every configured webhook that listens for the event, or a
// Slack incoming-webhook body. Delivery is best effort with a timeout: a receiver that is down
// is logged, never a reason for a run to fail.
import type { NotifierPolicy, NotifyEvent } from './policy-schema.js';
import type { RunRecord } from './store.js';

export interface Notification {
  event: NotifyEvent;
  run: RunRecord;
  summary: string;
  /** What the run saw: the decision's facts, the commands an approval would run, the plan preview. */
  evidence?: unknown;
}

export interface NotificationBody {
  event: NotifyEvent;
  summary: string;
  link: string;
  /** The run's page in the web console, for people (the link above is the API's, for tools). */
  console: string;
  run: Pick<RunRecord, 'id' | 'runbook' | 'outcome' | 'exitCode' | 'cause' | 'message' | 'planHash' | 'hosts' | 'approval' | 'decision'> & {
    alert: RunRecord['alert'];
  };
  evidence: unknown;
}

export function notificationBody(n: Notification, baseUrl: string): NotificationBody {
  const r = n.run;
  return {
    event: n.event,
    summary: n.summary,
    link: `${baseUrl.replace(/\/$/, '')}/api/runs/${r.id}`,
    console: `${baseUrl.replace(/\/$/, '')}/runs/${r.id}`,
    run: {
      id: r.id,
      runbook: r.runbook,
      outcome: r.outcome,
      exitCode: r.exitCode,
      cause: r.cause,
      message: r.message,
      planHash: r.planHash,
      hosts: r.hosts,
      approval: r.approval,
      decision: r.decision,
      alert: r.alert,
    },
    evidence: n.evidence ?? null,
  };
}

/** Slack's incoming-webhook shape: `text` as the fallback, blocks for the detail. */
export function slackBody(body: NotificationBody): Record<string, unknown> {
  const evidence = body.evidence === null ? '' : JSON.stringify(body.evidence, null, 1).slice(0, 2500);
  return {
    text: `remedy: ${body.event}: ${body.summary}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${body.event}* · ${body.run.runbook} · <${body.console}|run ${body.run.id}>\n${body.summary}` } },
      ...(evidence ? [{ type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${evidence}\`\`\`` } }] : []),
    ],
  };
}

export class Notifier {
  private readonly targets: readonly NotifierPolicy[];
  private readonly baseUrl: string;
  private readonly log: (line: string) => void;
  constructor(targets: readonly NotifierPolicy[], baseUrl: string, log: (line: string) => void = (l) => void process.stderr.write(`${l}\n`)) {
    this.targets = targets;
    this.baseUrl = baseUrl;
    this.log = log;
  }

  async send(n: Notification): Promise<void> {
    const body = notificationBody(n, this.baseUrl);
    await Promise.all(
      this.targets
        .filter((t) => t.on.includes(n.event))
        .map(async (t) => {
          try {
            const res = await fetch(t.url, {
              method: 'POST',
              headers: { 'content-type': 'application/json', 'user-agent': 'remedy' },
              body: JSON.stringify(t.format === 'slack' ? slackBody(body) : body),
              signal: AbortSignal.timeout(5000),
            });
            if (!res.ok) this.log(`remedy: notification ${n.event} for run ${n.run.id} to ${t.name ?? t.url}: HTTP ${res.status}`);
            await res.body?.cancel();
          } catch (err) {
            this.log(`remedy: notification ${n.event} for run ${n.run.id} to ${t.name ?? t.url} failed: ${(err as Error).message}`);
          }
        }),
    );
  }
}
