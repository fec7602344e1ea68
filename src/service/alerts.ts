// Alert intake formats, each read into one Alert model: Alertmanager webhook v4, PagerDuty V3
// webhooks and a generic JSON body. Bodies come from the network: zod checks every field, and a
// body that does not fit is a 400 with the reason, never an exception further in.
import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { AlertSource } from './policy-schema.js';

export interface Alert {
  source: AlertSource;
  status: 'firing' | 'resolved';
  /** Stable id of the alert while it fires (Alertmanager's, PagerDuty's incident id, or a hash of the labels). */
  fingerprint: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string | null;
}

export class BadAlertError extends Error {}

const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const Labels = z
  .record(z.string().regex(LABEL_NAME, 'label names are letters, digits and _ (not starting with a digit)').max(128), z.string().max(4096))
  .refine((m) => Object.keys(m).length <= 100, 'at most 100 labels');
const Annotations = z.record(z.string().max(256), z.string().max(65536)).refine((m) => Object.keys(m).length <= 100, 'at most 100 annotations');
/** Fingerprints become Redis keys and BullMQ job ids: a safe alphabet, bounded. */
const Fingerprint = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'a fingerprint is 1-128 letters, digits, ., _ or -');

const AlertmanagerAlert = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: Labels.refine((m) => Object.keys(m).length > 0, 'labels must not be empty'),
  annotations: Annotations.default({}),
  startsAt: z.string().max(64).optional(),
  endsAt: z.string().max(64).optional(),
  generatorURL: z.string().max(4096).optional(),
  fingerprint: Fingerprint.optional(),
});
const AlertmanagerWebhook = z.object({
  version: z.literal('4'),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().max(1024).optional(),
  groupKey: z.string().max(8192).optional(),
  alerts: z.array(AlertmanagerAlert).min(1).max(1000),
});

const PagerDutyWebhook = z.object({
  event: z.object({
    id: z.string().max(256).optional(),
    event_type: z
      .string()
      .regex(/^[a-z_.]+$/)
      .max(128),
    resource_type: z.string().max(128).optional(),
    occurred_at: z.string().max(64).optional(),
    data: z.object({
      id: Fingerprint,
      title: z.string().max(4096).optional(),
      summary: z.string().max(4096).optional(),
      urgency: z.string().max(64).optional(),
      service: z.object({ id: z.string().max(256).optional(), summary: z.string().max(1024).optional() }).nullish(),
      priority: z.object({ summary: z.string().max(256).optional() }).nullish(),
    }),
  }),
});

const GenericAlert = z.object({
  status: z.enum(['firing', 'resolved']).default('firing'),
  labels: Labels.refine((m) => Object.keys(m).length > 0, 'labels must not be empty'),
  annotations: Annotations.default({}),
  fingerprint: Fingerprint.optional(),
  startsAt: z.string().max(64).optional(),
});
const GenericWebhook = z.union([z.object({ alerts: z.array(GenericAlert).min(1).max(1000) }), GenericAlert]);

/** sha256 of the sorted labels: the same alert always gets the same fingerprint. */
export function labelsFingerprint(labels: Record<string, string>): string {
  const canonical = JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((k) => [k, labels[k]]),
  );
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

function explain(error: z.ZodError): string {
  const first = error.issues[0];
  if (!first) return 'invalid body';
  const where = first.path.length > 0 ? first.path.map(String).join('.') : 'body';
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? 's' : ''})` : '';
  return `${where}: ${first.message}${more}`;
}

function parseWith<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const r = schema.safeParse(body);
  if (!r.success) throw new BadAlertError(`not ${what}: ${explain(r.error)}`);
  return r.data;
}

export function parseAlertmanager(body: unknown): Alert[] {
  const hook = parseWith(AlertmanagerWebhook, body, 'an Alertmanager webhook (version 4)');
  return hook.alerts.map((a) => ({
    source: 'alertmanager',
    status: a.status,
    fingerprint: a.fingerprint ?? labelsFingerprint(a.labels),
    labels: a.labels,
    annotations: a.annotations,
    startsAt: a.startsAt ?? null,
  }));
}

/** PagerDuty V3: incident.triggered fires, incident.resolved resolves; other event types carry no alert. */
export function parsePagerDuty(body: unknown): Alert[] {
  const hook = parseWith(PagerDutyWebhook, body, 'a PagerDuty V3 webhook');
  const { event } = hook;
  const status = event.event_type === 'incident.triggered' ? 'firing' : event.event_type === 'incident.resolved' ? 'resolved' : null;
  if (status === null) return [];
  const d = event.data;
  const labels: Record<string, string> = { incident_id: d.id };
  if (d.title !== undefined) labels['alertname'] = d.title;
  if (d.service?.summary !== undefined) labels['service'] = d.service.summary;
  if (d.service?.id !== undefined) labels['service_id'] = d.service.id;
  if (d.urgency !== undefined) labels['urgency'] = d.urgency;
  if (d.priority?.summary !== undefined) labels['priority'] = d.priority.summary;
  return [
    {
      source: 'pagerduty',
      status,
      fingerprint: d.id,
      labels,
      annotations: d.summary !== undefined ? { summary: d.summary } : {},
      startsAt: event.occurred_at ?? null,
    },
  ];
}

export function parseGeneric(body: unknown): Alert[] {
  const hook = parseWith(GenericWebhook, body, 'a generic alert ({status, labels, annotations, fingerprint} or {alerts: [...]})');
  const alerts = 'alerts' in hook ? hook.alerts : [hook];
  return alerts.map((a) => ({
    source: 'generic',
    status: a.status,
    fingerprint: a.fingerprint ?? labelsFingerprint(a.labels),
    labels: a.labels,
    annotations: a.annotations,
    startsAt: a.startsAt ?? null,
  }));
}

export const PARSERS: Record<AlertSource, (body: unknown) => Alert[]> = {
  alertmanager: parseAlertmanager,
  pagerduty: parsePagerDuty,
  generic: parseGeneric,
};
