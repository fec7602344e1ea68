// The policy file of `remedy serve` (remedy.policy.yaml), declared once in zod: the loader
// validates with it and `remedy schema policy` derives schema/policy.schema.json from it.
// Keys are snake_case like the runbook language's.
import * as z from 'zod';
import { DURATION_PATTERN } from '../runbook/schema.js';

const Duration = z.string().regex(DURATION_PATTERN, 'expected a duration such as 30s, 5m, 1h or 1h30m');
const LabelMap = z.record(z.string().min(1), z.string());

export const ROLES = ['hook', 'viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];
/** bearer: `Authorization: Bearer <token>`; hmac: `X-Remedy-Signature: sha256=<hex>` of the body; pagerduty: V3 `X-PagerDuty-Signature: v1=<hex>`. */
export const AUTH_SCHEMES = ['bearer', 'hmac', 'pagerduty'] as const;
export const MODES = ['auto', 'approve', 'plan'] as const;
export type RouteMode = (typeof MODES)[number];
export const SOURCES = ['alertmanager', 'pagerduty', 'generic'] as const;
export type AlertSource = (typeof SOURCES)[number];
export const NOTIFY_EVENTS = ['approval-needed', 'escalated', 'failed', 'refused', 'resolved', 'breaker-tripped', 'nothing-to-do', 'plan'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

export const TokenEntry = z
  .object({
    name: z.string().min(1),
    /** The environment variable holding the token or shared secret (never the secret itself in the file). */
    env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name'),
    role: z.enum(ROLES),
    scheme: z.enum(AUTH_SCHEMES).default('bearer'),
  })
  .strict();

export const Route = z
  .object({
    name: z.string().min(1).optional(),
    /** Every label here must equal the alert's. */
    match: LabelMap.default({}),
    /** Every label here must match the alert's as a regular expression (anchored). */
    match_re: LabelMap.optional(),
    /** Only alerts from this intake endpoint. */
    source: z.enum(SOURCES).optional(),
    runbook: z.string().min(1),
    inventory: z.string().min(1),
    /** auto: run with --yes; approve: diagnose, then wait for an approval through the API; plan: probe only. */
    mode: z.enum(MODES).default('approve'),
    /** Runbook params, templated from the alert: `{{ labels.region }}`. */
    params: z.record(z.string().min(1), z.string()).default({}),
    /** `--limit`, templated from the alert. */
    limit: z.string().min(1).optional(),
    /** The BullMQ queue (one per region or data centre) whose workers run it. */
    queue: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, ., _ and - only')
      .default('default'),
    /** At most `max` runs per `per`, per scope. */
    budget: z
      .object({ max: z.number().int().min(1), per: Duration })
      .strict()
      .optional(),
    /** After a run starts, no other run for the same scope for this long. */
    cooldown: Duration.optional(),
    /** The same alert firing again within `window` after a resolved run trips the breaker. */
    breaker: z.union([z.literal(false), z.object({ window: Duration }).strict()]).default({ window: '1h' }),
    /** Labels naming the scope of budget, cooldown and breaker (default: the runbook with the rendered limit and params). */
    scope: z.array(z.string().min(1)).optional(),
    /** approve mode: how long a run waits for an approval before it is refused. */
    approval_timeout: Duration.default('1h'),
  })
  .strict();

export const MaintenanceWindow = z
  .object({
    name: z.string().min(1),
    /** Alerts whose labels all equal these (empty: every alert). */
    match: LabelMap.default({}),
    start: z.iso.datetime({ offset: true }),
    end: z.iso.datetime({ offset: true }),
  })
  .strict();

export const Notifier = z
  .object({
    name: z.string().min(1).optional(),
    url: z.url({ protocol: /^https?$/ }),
    /** json: remedy's own body; slack: a Slack incoming-webhook body (`text` and `blocks`). */
    format: z.enum(['json', 'slack']).default('json'),
    on: z.array(z.enum(NOTIFY_EVENTS)).default(['approval-needed', 'escalated', 'failed', 'refused', 'resolved', 'breaker-tripped']),
  })
  .strict();

export const PolicyFile = z
  .object({
    auth: z.object({ tokens: z.array(TokenEntry).min(1) }).strict(),
    routes: z.array(Route).min(1),
    maintenance: z.array(MaintenanceWindow).default([]),
    notify: z.array(Notifier).default([]),
    /** Base URL of the API as people reach it, for links in notifications. */
    public_url: z.url().optional(),
  })
  .strict();

export type Policy = z.output<typeof PolicyFile>;
export type RoutePolicy = z.output<typeof Route>;
export type TokenPolicy = z.output<typeof TokenEntry>;
export type NotifierPolicy = z.output<typeof Notifier>;
