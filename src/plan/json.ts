// The plan's JSON contract. Other tools read it: keep these names. Everything here is redacted;
// the in-memory scope (real param values) is never part of it.
import type { CaptureSpec } from '../runbook/schema.js';
import type { OnFailurePolicy, Plan, PlanEvidence, PlanStep } from './types.js';

export interface PlanStepJson {
  id: string;
  name: string;
  kind: string;
  mutates: boolean;
  when: string | null;
  whenText: string | null;
  confirm: string | null;
  hostPattern: string | null;
  batches: string[][] | null;
  commands: { host: string; command: string }[];
  diff: string | null;
  timeoutMs: number | null;
  retries: number;
  delayMs: number;
  repeat: { count: number; intervalMs: number } | null;
  maxUnavailable: number | null;
  maxFailPercentage: number | null;
  onFailure: OnFailurePolicy;
  become: string | boolean | null;
  capture: Record<string, CaptureSpec>;
  evidence: PlanEvidence | null;
  evidenceFacts: string[];
  outcome: { status: string; message: string; require: string[] } | null;
  decide: { causes: { cause: string; when: string; summary?: string | undefined }[]; default: string } | null;
  bundle?: { name: string; files: { match: string; describe: string }[] } | undefined;
  rollback: PlanStepJson[];
  rollbackHosts?: 'all' | undefined;
  dynamic: boolean;
  source: string;
}

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
    outcome: step.templates.outcome ?? null,
    decide: step.templates.decide ?? null,
    // Only bundle steps carry this key, so every other step's JSON (and plan hash) is unchanged.
    ...(step.templates.bundle ? { bundle: step.templates.bundle } : {}),
    rollback: step.rollback.map(stepToJson),
    // Only set when not the default, so other plans' JSON (and hash) is unchanged.
    ...(step.rollbackHosts === 'all' ? { rollbackHosts: 'all' as const } : {}),
    dynamic: step.dynamic,
    // Relative to the runbook's directory would vary with cwd; the file name is stable.
    source: `${step.source.file.split('/').pop()}:${step.source.line}:${step.source.col}`,
  };
}
