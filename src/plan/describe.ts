// How each kind of step describes itself in the plan's text and Markdown, the graph and the
// reports: one entry per kind (the mapped type makes a new kind add its own), so no renderer
// switches on kind. This is the plan-time half of a kind; what it does at run time is its action
// (engine/actions/), which the plan layer must not import.
import type { PlanStep, PlanStepKind, StepOf } from './types.js';

/** Something a step says beyond its hosts, commands and diff. */
export type StepDetail =
  /** A decide step's branch: the cause, and the condition that names it (null: the default). */
  | { kind: 'cause'; cause: string; when: string | null; summary: string | null }
  /** An outcome step: how it ends the run. */
  | { kind: 'ends'; status: string; message: string };

export interface KindDescription<K extends PlanStepKind> {
  /** The step's node in a graph: a decision, an end of the run, or a plain step. */
  shape: 'decision' | 'end' | 'step';
  /** A read-only step of this kind checks the hosts (reports count it as verifying a fix). */
  checksHosts: boolean;
  /** What it says beyond its commands and diff, in order. */
  details(step: StepOf<K>): StepDetail[];
  /** Its label in a graph, when not `id: name`. */
  label?(step: StepOf<K>): string;
}

const none = (): StepDetail[] => [];

const KINDS: { readonly [K in PlanStepKind]: KindDescription<K> } = {
  run: { shape: 'step', checksHosts: true, details: none },
  wait: { shape: 'step', checksHosts: true, details: none },
  properties: { shape: 'step', checksHosts: false, details: none },
  // A fetch collects; it does not check.
  fetch: { shape: 'step', checksHosts: false, details: none },
  pause: { shape: 'step', checksHosts: false, details: none },
  bundle: { shape: 'step', checksHosts: false, details: none },
  decide: {
    shape: 'decision',
    checksHosts: false,
    details: (step) => [
      ...step.templates.decide.causes.map((c) => ({ kind: 'cause' as const, cause: c.cause, when: c.when, summary: c.summary ?? null })),
      { kind: 'cause', cause: step.templates.decide.default, when: null, summary: null },
    ],
  },
  outcome: {
    shape: 'end',
    checksHosts: false,
    details: (step) => [{ kind: 'ends', status: step.templates.outcome.status, message: step.templates.outcome.message.trim() }],
    label: (step) => `${step.templates.outcome.status}: ${step.name}`,
  },
};

function kindDescription(kind: PlanStepKind): KindDescription<PlanStepKind> {
  return KINDS[kind] as KindDescription<PlanStepKind>;
}

/** For readers that know only the kind's name (a journal's step-start): does a read-only step of it check hosts? */
export function kindChecksHosts(kind: string): boolean {
  return Object.hasOwn(KINDS, kind) && kindDescription(kind as PlanStepKind).checksHosts;
}

/** A step's own description. KINDS pairs each kind with its describer, which is why the cast holds. */
export function describeStep(step: PlanStep): { shape: KindDescription<PlanStepKind>['shape']; details: StepDetail[]; label: string | null } {
  const d = kindDescription(step.kind);
  return { shape: d.shape, details: d.details(step), label: d.label ? d.label(step) : null };
}
