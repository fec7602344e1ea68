// Pure: which hosts a fault applies to, from `--hosts` (host names or group names).
import { UsageError } from '../errors.js';
import { isMp, isRouter, mps, routers } from './topology.js';
import { ROUTER_SCENARIOS, type LabMpHost, type LabRouterHost, type LabTopology, type Scenario } from './types.js';

/**
 * MP scenarios act on Message Processors (the backend fault acts on what those MPs see). Names
 * may be MPs (mp-1), regions (dc_1), the groups message_processors, dc_N_message_processors or
 * all. A Router named on its own is refused: which of its MPs was meant is not clear.
 */
export function resolveMpTargets(t: LabTopology, scenario: Scenario, names?: readonly string[]): LabMpHost[] {
  const cleaned = (names ?? []).map((n) => n.trim()).filter(Boolean);
  if (cleaned.length === 0) return mps(t);
  const chosen = new Set<string>();
  for (const n of cleaned) {
    const host = t.hosts.find((h) => h.name === n);
    if (host && isRouter(host)) {
      throw new UsageError(`${scenario} acts on Message Processors; ${n} is a Router (use its region ${host.region} for the MPs behind it)`);
    }
    if (host) chosen.add(n);
    else if (n === 'all' || n === 'message_processors') mps(t).forEach((m) => chosen.add(m.name));
    else if (t.regions.includes(n)) mps(t).filter((m) => m.region === n).forEach((m) => chosen.add(m.name));
    else if (n.endsWith('_message_processors') && t.regions.includes(n.slice(0, -'_message_processors'.length))) {
      const region = n.slice(0, -'_message_processors'.length);
      mps(t).filter((m) => m.region === region).forEach((m) => chosen.add(m.name));
    } else {
      throw new UsageError(
        `unknown host or group ${JSON.stringify(n)}; hosts: ${mps(t).map((m) => m.name).join(', ')}; groups: all, message_processors, ${t.regions.join(', ')}`,
      );
    }
  }
  return mps(t).filter((m) => chosen.has(m.name));
}

/**
 * Router scenarios act on Routers: names may be Routers (router-1), regions (dc_1), the groups
 * routers, dc_N_routers or all. An MP named on its own is refused.
 */
export function resolveRouterTargets(t: LabTopology, scenario: Scenario, names?: readonly string[]): LabRouterHost[] {
  const cleaned = (names ?? []).map((n) => n.trim()).filter(Boolean);
  if (cleaned.length === 0) return routers(t);
  const chosen = new Set<string>();
  for (const n of cleaned) {
    const host = t.hosts.find((h) => h.name === n);
    if (host && isMp(host)) throw new UsageError(`${scenario} acts on Routers; ${n} is a Message Processor (use its region ${host.region} for its Router)`);
    if (host) chosen.add(n);
    else if (n === 'all' || n === 'routers') routers(t).forEach((r) => chosen.add(r.name));
    else if (t.regions.includes(n)) routers(t).filter((r) => r.region === n).forEach((r) => chosen.add(r.name));
    else if (n.endsWith('_routers') && t.regions.includes(n.slice(0, -'_routers'.length))) {
      const region = n.slice(0, -'_routers'.length);
      routers(t).filter((r) => r.region === region).forEach((r) => chosen.add(r.name));
    } else {
      throw new UsageError(
        `unknown host or group ${JSON.stringify(n)}; Routers: ${routers(t).map((r) => r.name).join(', ')}; groups: all, routers, ${t.regions.join(', ')}`,
      );
    }
  }
  return routers(t).filter((r) => chosen.has(r.name));
}

export const actsOnRouters = (scenario: Scenario): boolean => ROUTER_SCENARIOS.includes(scenario);

/** The Routers in front of some MPs: the Routers of their regions. */
export function routersFor(t: LabTopology, targets: readonly LabMpHost[]): LabRouterHost[] {
  const regions = new Set(targets.map((m) => m.region));
  return routers(t).filter((r) => regions.has(r.region));
}

/** The MPs behind some Routers: the MPs of their regions. */
export function mpsBehind(t: LabTopology, front: readonly LabRouterHost[]): LabMpHost[] {
  const regions = new Set(front.map((r) => r.region));
  return mps(t).filter((m) => regions.has(m.region));
}

/** Scenarios that each rewrite the MPs' TLS settings: two of them at once contradict each other. */
const TLS_SCENARIOS: readonly Scenario[] = ['router-mp-tls', 'stale-router-config', 'router-truststore'];

/**
 * The order faults are applied in when several are asked for at once: configuration changes
 * (which restart MPs and Routers) first, runtime faults after, so a restart never undoes a fault
 * asked for in the same command; stopping Routers last.
 */
export const APPLY_ORDER: readonly Scenario[] = [
  'router-mp-tls',
  'stale-router-config',
  'router-truststore',
  'mp-disk-full',
  'backend-error',
  'mps-busy',
  'mp-slow',
  'mps-down',
  'router-down',
];

export interface FaultRequest {
  scenario: Scenario;
  hosts?: readonly string[] | undefined;
}

/** Checks a set of faults can be applied together and returns them in APPLY_ORDER. */
export function orderFaults(requests: readonly FaultRequest[]): FaultRequest[] {
  if (requests.length === 0) throw new UsageError('name at least one scenario');
  const seen = new Set<Scenario>();
  for (const r of requests) {
    if (seen.has(r.scenario)) throw new UsageError(`${r.scenario} is named twice; give it one --hosts list`);
    seen.add(r.scenario);
  }
  const tls = requests.filter((r) => TLS_SCENARIOS.includes(r.scenario)).map((r) => r.scenario);
  if (tls.length > 1) throw new UsageError(`${tls.join(' and ')} each set the MPs' TLS configuration; break one of them at a time`);
  return [...requests].sort((a, b) => APPLY_ORDER.indexOf(a.scenario) - APPLY_ORDER.indexOf(b.scenario));
}
