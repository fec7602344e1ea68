// From an alert to what to run: the first route whose labels match, with params and --limit
// rendered from the alert's labels (strict: a label the template names must exist).
import { createHash } from 'node:crypto';
import { compile, renderCompiled } from '../template/engine.js';
import type { Alert } from './alerts.js';
import type { Policy, RoutePolicy } from './policy-schema.js';

export interface RoutedRun {
  route: RoutePolicy;
  routeName: string;
  params: Record<string, string>;
  limit: string | null;
  /** Human-readable scope of budget, cooldown and breaker. */
  scope: string;
  /** Key-safe id of the scope. */
  scopeId: string;
}

export function routeMatches(route: RoutePolicy, alert: Pick<Alert, 'labels' | 'source'>): boolean {
  if (route.source !== undefined && route.source !== alert.source) return false;
  for (const [k, v] of Object.entries(route.match)) if (alert.labels[k] !== v) return false;
  for (const [k, re] of Object.entries(route.match_re ?? {})) {
    const value = alert.labels[k];
    if (value === undefined || !new RegExp(`^(?:${re})$`).test(value)) return false;
  }
  return true;
}

export function routeName(policy: Policy, route: RoutePolicy): string {
  return route.name ?? `routes[${policy.routes.indexOf(route)}]`;
}

export function findRoute(policy: Policy, alert: Pick<Alert, 'labels' | 'source'>): RoutePolicy | null {
  return policy.routes.find((r) => routeMatches(r, alert)) ?? null;
}

function render(text: string, alert: Alert, what: string): string {
  try {
    return renderCompiled('text', compile('text', text), { labels: alert.labels, annotations: alert.annotations, fingerprint: alert.fingerprint });
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}`);
  }
}

/** Renders a route for an alert; throws (with the reason a refusal records) when a template cannot. */
export function routeAlert(policy: Policy, route: RoutePolicy, alert: Alert): RoutedRun {
  const name = routeName(policy, route);
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(route.params)) params[k] = render(v, alert, `route ${name}: params.${k}`);
  const limit = route.limit !== undefined ? render(route.limit, alert, `route ${name}: limit`) : null;
  const scope = route.scope
    ? `${route.runbook} ${route.scope.map((l) => `${l}=${alert.labels[l] ?? ''}`).join(' ')}`
    : `${route.runbook}${limit !== null ? ` limit=${limit}` : ''}${Object.entries(params)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => ` ${k}=${v}`)
        .join('')}`;
  return { route, routeName: name, params, limit, scope, scopeId: createHash('sha256').update(`${name}\n${scope}`).digest('hex').slice(0, 24) };
}
