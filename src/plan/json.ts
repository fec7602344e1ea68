// The plan's JSON contract. Other tools read it: keep these names. Everything here is redacted;
// the in-memory scope (real param values) is never part of it.
import type { KindTemplates, Plan, PlanStep } from './types.js';

/** Fields the JSON copies from the plan step unchanged: their types are PlanStep's, declared once. */
type CopiedStepField =
  | 'id'
  | 'name'
  | 'kind'
  | 'mutates'
  | 'when'
  | 'whenText'
  | 'confirm'
  | 'hostPattern'
  | 'batches'
  | 'commands'
  | 'diff'
  | 'timeoutMs'
  | 'retries'
  | 'delayMs'
  | 'repeat'
  | 'maxUnavailable'
  | 'maxFailPercentage'
  | 'onFailure'
  | 'become'
  | 'capture'
  | 'evidence'
  | 'evidenceFacts'
  | 'dynamic';

/** One step of plan.json: the copied fields, plus those the projection reshapes (see stepToJson). */
export type PlanStepJson = Pick<PlanStep, CopiedStepField> & {
  /** An outcome step's, else null (every step carries the key). */
  outcome: KindTemplates['outcome']['outcome'] | null;
  decide: KindTemplates['decide']['decide'] | null;
  bundle?: KindTemplates['bundle']['bundle'];
  rollback: PlanStepJson[];
  rollbackHosts?: 'all' | undefined;
  /** file name:line:col (the file name alone: a path would vary with the working directory). */
  source: string;
};

export interface PlanJson {
  runbook: string;
  planHash: string;
  summary: string;
  params: Record<string, unknown>;
  hosts: string[];
  /** Only with --limit: the pattern and the hosts it leaves out. */
  limit?: { pattern: string; excluded: string[] } | undefined;
  causes: string[];
  steps: PlanStepJson[];
  warnings: string[];
}

export function planToJson(plan: Plan): PlanJson {
  return {
    runbook: plan.runbook,
    planHash: plan.planHash,
    summary: plan.summary,
    params: plan.params,
    hosts: plan.hosts,
    ...(plan.limit ? { limit: plan.limit } : {}),
    causes: plan.causes,
    steps: plan.steps.map(stepToJson),
    warnings: plan.warnings,
  };
}

function stepToJson(step: PlanStep): PlanStepJson {
  return {
    id: step.id,
    name: step.name,
    kind: step.kind,
    mutates: step.mutates,
    when: step.when,
    whenText: step.whenText,
    confirm: step.confirm,
    hostPattern: step.hostPattern,
    batches: step.batches,
    commands: step.commands,
    diff: step.diff,
    timeoutMs: step.timeoutMs,
    retries: step.retries,
    delayMs: step.delayMs,
    repeat: step.repeat,
    maxUnavailable: step.maxUnavailable,
    maxFailPercentage: step.maxFailPercentage,
    onFailure: step.onFailure,
    become: step.become,
    capture: step.capture,
    evidence: step.evidence,
    evidenceFacts: step.evidenceFacts,
    outcome: step.kind === 'outcome' ? step.templates.outcome : null,
    decide: step.kind === 'decide' ? step.templates.decide : null,
    // Only bundle steps carry this key, so every other step's JSON (and plan hash) is unchanged.
    ...(step.kind === 'bundle' ? { bundle: step.templates.bundle } : {}),
    rollback: step.rollback.map(stepToJson),
    // Only set when not the default, so other plans' JSON (and hash) is unchanged.
    ...(step.rollbackHosts === 'all' ? { rollbackHosts: 'all' as const } : {}),
    dynamic: step.dynamic,
    // Relative to the runbook's directory would vary with cwd; the file name is stable.
    source: `${step.source.file.split('/').pop()}:${step.source.line}:${step.source.col}`,
  };
}
