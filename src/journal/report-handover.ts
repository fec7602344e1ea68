// The handover part of a report: what the person paged next reads first. A short summary (outcome,
// cause, per-host status, what changed, what is left for people), the incident's phase times, the
// evidence inlined, and the commands run per host. Pure: built from the events (already redacted
// as the journal is) and plan.json.
import type { HostEvidence, RunEvent } from '../engine/events.js';
import { kindChecksHosts } from '../plan/describe.js';
import type { ReportApproval, ReportChange } from './report-model.js';
import type { ResultArtifact, RunResultJson } from './result.js';

type Ev<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;

export const PHASES = ['start', 'evidence', 'decided', 'fixed', 'verified'] as const;
export type PhaseId = (typeof PHASES)[number];

export const PHASE_LABELS: Record<PhaseId, string> = {
  start: 'run start',
  evidence: 'evidence gathered',
  decided: 'cause decided',
  fixed: 'fix applied',
  verified: 'verified',
};

export interface Phase {
  id: PhaseId;
  label: string;
  /** When the phase was reached; null when the run never reached it (see `note`). */
  time: string | null;
  /** Milliseconds from the run start. */
  atMs: number | null;
  /** Why a phase has no time, or what it stands for. */
  note?: string | undefined;
}

export interface ReportSummary {
  outcome: string;
  exitCode: number;
  cause: string | null;
  message: string | null;
  /** Per host, the status result.json gives it (the executor's vocabulary, unchanged). */
  hosts: { host: string; status: string }[];
  /** One line per step that changed something: the step and its hosts. */
  changed: string[];
  /** What a person still has to do, in the order they should do it. */
  leftForPeople: string[];
  /**
   * Who decided what, when and why: every approval answer (with the operator's comment) and a
   * cause the operator overrode, in the order they were made.
   */
  decisions: string[];
}

export interface EvidenceBlock {
  step: string;
  title: string;
  host: string;
  lines: string[];
  /** Lines cut (the full output is at `output`). */
  omitted: number;
  output?: string | undefined;
}

export interface CommandGroup {
  command: string;
  hosts: string[];
}

export interface StepCommands {
  step: string;
  name: string;
  mutates: boolean;
  /** Hosts that ran an identical command share one entry. */
  groups: CommandGroup[];
}

/** Phase times from the events: the reviewer's MTTR row. Never a phase the run did not reach. */
export function buildPhases(events: readonly RunEvent[], result: RunResultJson): Phase[] {
  const start = events.find((e) => e.type === 'run-start')?.time ?? null;
  const t0 = start === null ? null : Date.parse(start);
  const at = (time: string | null, id: PhaseId, note?: string): Phase => ({
    id,
    label: PHASE_LABELS[id],
    time,
    atMs: time === null || t0 === null ? null : Math.max(0, Date.parse(time) - t0),
    note,
  });
  const decisionIdx = findLastIndex(events, (e) => e.type === 'decision');
  const phases: Phase[] = [at(start, 'start')];
  if (decisionIdx < 0) {
    phases.push(at(null, 'evidence', 'no decision step ran'), at(null, 'decided', 'no decision step ran'));
  } else {
    const gathered = findLastIndex(events.slice(0, decisionIdx), (e) => e.type === 'step-end');
    phases.push(at(gathered >= 0 ? (events[gathered] as RunEvent).time : (events[decisionIdx] as RunEvent).time, 'evidence'));
    phases.push(at((events[decisionIdx] as RunEvent).time, 'decided'));
  }
  // The fix: the end of the last step in which a host changed.
  const changedSteps = new Set(events.filter((e): e is Ev<'host-end'> => e.type === 'host-end' && e.status === 'changed').map((e) => e.step));
  const fixIdx = findLastIndex(events, (e) => e.type === 'step-end' && changedSteps.has(e.step));
  if (fixIdx < 0) {
    phases.push(at(null, 'fixed', 'nothing was changed'), at(null, 'verified', 'nothing was changed'));
    return phases;
  }
  phases.push(at((events[fixIdx] as RunEvent).time, 'fixed'));
  if (result.outcome !== 'resolved') {
    phases.push(at(null, 'verified', `not verified: the run ended ${result.outcome}`));
    return phases;
  }
  // Verified: the last passing check after the fix (a read-only host step, or a verify phase).
  const starts = new Map<string, Ev<'step-start'>>();
  let verified: string | null = null;
  for (const [i, e] of events.entries()) {
    if (e.type === 'step-start') starts.set(e.step, e);
    if (i <= fixIdx) continue;
    const started = starts.get((e as { step?: string }).step ?? '');
    // A check is a read-only command or wait on hosts (a fetch collects, it does not check).
    if (e.type === 'step-end' && e.status === 'ok' && started?.mutates === false && kindChecksHosts(started.kind) && started.hosts.length > 0)
      verified = e.time;
  }
  if (verified === null) {
    // The fix step's own `verify:` checks, when nothing ran after it.
    const verifyEnd = findLastIndex(events, (e) => e.type === 'host-end' && e.phase === 'verify' && e.status === 'ok');
    if (verifyEnd > findLastIndex(events.slice(0, fixIdx), (e) => e.type === 'step-start')) verified = (events[verifyEnd] as RunEvent).time;
  }
  phases.push(verified === null ? at(null, 'verified', 'no check ran after the fix') : at(verified, 'verified'));
  return phases;
}

/** Evidence lines per step and host, in run order, inventory order within a step. */
export function buildEvidence(events: readonly RunEvent[], hostOrder: readonly string[]): EvidenceBlock[] {
  const latest = new Map<string, { step: string; host: string; ev: HostEvidence }>();
  for (const e of events) {
    if (e.type !== 'host-end' || e.evidence === undefined) continue;
    const key = `${e.step}\u0000${e.host}`;
    latest.delete(key); // a later visit of the step moves it to the end
    latest.set(key, { step: e.step, host: e.host, ev: e.evidence });
  }
  const steps = [...new Set([...latest.values()].map((x) => x.step))];
  const order = (h: string) => (hostOrder.includes(h) ? hostOrder.indexOf(h) : hostOrder.length);
  return steps.flatMap((step) =>
    [...latest.values()]
      .filter((x) => x.step === step)
      .sort((a, b) => order(a.host) - order(b.host))
      .map(({ host, ev }) => ({ step, title: ev.title, host, lines: ev.lines, omitted: ev.omitted, output: ev.output })),
  );
}

/** The commands each step ran, per host (its last attempt's command), identical ones grouped. */
export function buildCommands(events: readonly RunEvent[], hostOrder: readonly string[]): StepCommands[] {
  const steps = new Map<string, { name: string; mutates: boolean; byHost: Map<string, string> }>();
  for (const e of events) {
    if (e.type === 'step-start' && !steps.has(e.step)) steps.set(e.step, { name: e.name, mutates: e.mutates, byHost: new Map() });
    if (e.type === 'host-start' && e.command !== undefined && e.phase === undefined) {
      const s = steps.get(e.step);
      s?.byHost.set(e.host, e.command);
    }
  }
  const order = (h: string) => (hostOrder.includes(h) ? hostOrder.indexOf(h) : hostOrder.length);
  const out: StepCommands[] = [];
  for (const [step, s] of steps) {
    if (s.byHost.size === 0) continue;
    const groups = new Map<string, string[]>();
    for (const host of [...s.byHost.keys()].sort((a, b) => order(a) - order(b))) {
      const command = s.byHost.get(host) as string;
      groups.set(command, [...(groups.get(command) ?? []), host]);
    }
    out.push({ step, name: s.name, mutates: s.mutates, groups: [...groups].map(([command, hosts]) => ({ command, hosts })) });
  }
  return out;
}

export function buildSummary(input: {
  result: RunResultJson;
  hostOrder: readonly string[];
  changes: readonly ReportChange[];
  approvals: readonly ReportApproval[];
  artifacts: readonly (ResultArtifact & { present: boolean })[];
  outcomes: readonly { status: string; message: string }[];
  /** The cause the operator chose instead of the concluded one, when they did. */
  override?: { time: string; step: string; cause: string; from: string; operator: string } | null | undefined;
  /** The concluded cause, when a person was asked and accepted it. */
  accepted?: { time: string; step: string; cause: string; operator: string } | null | undefined;
  runDir?: string | undefined;
}): ReportSummary {
  const { result } = input;
  const order = (h: string) => (input.hostOrder.includes(h) ? input.hostOrder.indexOf(h) : input.hostOrder.length);
  const hosts = Object.entries(result.hosts)
    .map(([host, s]) => ({ host, status: s.status as string }))
    .sort((a, b) => order(a.host) - order(b.host));
  const changedBySteps = new Map<string, { name: string; hosts: string[] }>();
  for (const c of input.changes) {
    if (c.status !== 'changed') continue;
    const entry = changedBySteps.get(c.step) ?? { name: c.name, hosts: [] };
    entry.hosts.push(c.host);
    changedBySteps.set(c.step, entry);
  }
  const changed = [...changedBySteps].map(([step, c]) => `${c.name} (${step}) on ${c.hosts.sort((a, b) => order(a) - order(b)).join(', ')}`);
  const left: string[] = [];
  for (const o of input.outcomes) if (o.status === 'escalate') left.push(o.message);
  const notOk = hosts.filter((h) => h.status !== 'ok');
  const byStatus = new Map<string, string[]>();
  for (const h of notOk) byStatus.set(h.status, [...(byStatus.get(h.status) ?? []), h.host]);
  for (const [status, list] of byStatus)
    left.push(`${list.join(', ')}: ${status}. Check ${list.length === 1 ? 'this host' : 'these hosts'} by hand; the timeline below shows what ran there.`);
  const declined = input.approvals.filter((a) => a.decision !== 'approved');
  for (const a of declined) {
    const who = a.source === 'operator' ? ` by ${a.operator}` : '';
    left.push(
      `Step ${a.step}${a.batch !== undefined ? ` (batch ${a.batch})` : ''} was ${a.decision === 'timed-out' ? 'not answered in time' : a.decision}${who} on ${a.hosts.join(', ') || 'no host'}${a.comment ? ` ("${a.comment}")` : ''}: it did not run there.`,
    );
  }
  const present = input.artifacts.filter((a) => a.present);
  if (present.length > 0)
    left.push(`Hand over the ${present.length} artifact${present.length === 1 ? '' : 's'} listed under Artifacts (sizes and SHA-256 given).`);
  if (!result.complete) left.push('The run stopped before its end: continue it with `remedy resume` on this run directory, or start a new run.');
  else if (result.outcome === 'interrupted') left.push('The run was interrupted: continue it with `remedy resume` on this run directory.');
  return {
    outcome: result.outcome,
    exitCode: result.exitCode,
    cause: result.cause,
    message: result.message,
    hosts,
    changed,
    leftForPeople: left,
    decisions: describeDecisions(input.approvals, input.override, input.accepted),
  };
}

const SOURCE_WORDS: Record<ReportApproval['source'], string> = {
  operator: 'answered by a person',
  flag: 'by --yes',
  policy: 'by the run policy',
  resume: 'carried over by resume',
};

/** `2026-11-24T13:45:02.000Z alice approved restart_mps (batch 1) on mp-1, mp-2 (answered by a person): "canary first"`. */
export function describeDecisions(
  approvals: readonly ReportApproval[],
  override?: { time: string; step: string; cause: string; from: string; operator: string } | null,
  accepted?: { time: string; step: string; cause: string; operator: string } | null,
): string[] {
  const items: { time: string; text: string }[] = approvals.map((a) => {
    const verb = a.decision === 'timed-out' ? 'did not answer in time for' : a.decision;
    const batch = a.batch !== undefined ? ` (batch ${a.batch})` : '';
    return {
      time: a.time,
      text: `${a.time} ${a.operator} ${verb} ${a.step}${batch} on ${a.hosts.join(', ') || 'no host'} (${SOURCE_WORDS[a.source]})${a.comment ? `: "${a.comment}"` : ''}`,
    };
  });
  if (override)
    items.push({
      time: override.time,
      text: `${override.time} ${override.operator} overrode the cause at ${override.step}: ${override.cause}, not ${override.from} as concluded`,
    });
  if (accepted)
    items.push({
      time: accepted.time,
      text: `${accepted.time} ${accepted.operator} accepted the concluded cause at ${accepted.step}: ${accepted.cause}`,
    });
  return items.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0)).map((i) => i.text);
}

function findLastIndex<T>(items: readonly T[], pred: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (pred(items[i] as T)) return i;
  return -1;
}
