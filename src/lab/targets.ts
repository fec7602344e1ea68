// Pure: which Message Processors a fault applies to, from `--hosts` (host names or group names).
import { UsageError } from '../errors.js';
import { isRouter, mps, routers } from './topology.js';
import type { LabMpHost, LabRouterHost, LabTopology, Scenario } from './types.js';

/**
 * Every scenario acts on Message Processors (the backend fault acts on what those MPs see).
 * Names may be MPs (mp-1), regions (dc_1), the groups message_processors, dc_N_message_processors
 * or all. A Router named on its own is refused: which of its MPs was meant is not clear.
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

/** The Routers in front of some MPs: the Routers of their regions. */
export function routersFor(t: LabTopology, targets: readonly LabMpHost[]): LabRouterHost[] {
  const regions = new Set(targets.map((m) => m.region));
  return routers(t).filter((r) => regions.has(r.region));
}
