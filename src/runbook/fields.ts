// Which fields of a step are templates and which are CEL conditions, and what each may read.
// The validator checks them all; the list mirrors what the planner and executor render.
import { stepKind, type Step, type StepKind } from './schema.js';
import type { Path } from './source.js';

/**
 * What a template may read:
 *  - command: a shell command on a host; everything, facts and cause included (quoted)
 *  - text:    text rendered per host (confirm, file paths, messages); everything
 *  - once:    rendered once for the step, not per host (confirm): no facts
 *  - static:  rendered per host at plan time without run-time values (become): no facts/cause/run
 *  - plan:    rendered once before hosts are known (host patterns, durations, counts,
 *             include params): params only
 */
export type TemplateContext = 'command' | 'text' | 'once' | 'static' | 'plan';

export interface TemplateField {
  /** Relative to the step. */
  path: Path;
  text: string;
  context: TemplateContext;
}

export type ExpressionRole = 'when' | 'until' | 'cause' | 'require';
export interface ExpressionField {
  path: Path;
  text: string;
  role: ExpressionRole;
}

const isTemplate = (s: unknown): s is string => typeof s === 'string' && (s.includes('{{') || s.includes('{%'));

/** Kinds that run once on the controller: their conditions are fleet-level, without a host. */
export const CONTROLLER_KINDS: ReadonlySet<StepKind> = new Set(['outcome', 'decide', 'bundle']);

export function stepTemplateFields(step: Step): TemplateField[] {
  const out: TemplateField[] = [];
  const add = (path: Path, text: unknown, context: TemplateContext, always = false): void => {
    if (typeof text === 'string' && (always || isTemplate(text))) out.push({ path, text, context });
  };
  add(['hosts'], step.hosts, 'plan');
  add(['timeout'], step.timeout, 'plan');
  add(['delay'], step.delay, 'plan');
  add(['serial'], step.serial, 'plan');
  add(['max_unavailable'], step.max_unavailable, 'plan');
  if (step.repeat) {
    add(['repeat', 'count'], step.repeat.count, 'plan');
    add(['repeat', 'interval'], step.repeat.interval, 'plan');
  }
  add(['confirm'], step.confirm, 'once');
  add(['become'], step.become, 'static');
  const checks: [string, { run: string; delay?: string | undefined; timeout?: string | undefined; become?: string | boolean | undefined } | undefined][] = [];
  if ('run' in step) {
    add(['run'], step.run, 'command', true);
    checks.push(['verify', step.verify]);
  }
  if ('wait' in step) checks.push(['wait', step.wait]);
  if ('properties' in step) {
    const p = step.properties;
    add(['properties', 'file'], p.file, 'text');
    // Keys (set and unset) are literal property names; values are templates.
    for (const [k, v] of Object.entries(p.set ?? {})) add(['properties', 'set', k], v, 'text');
    add(['properties', 'owner'], p.owner, 'text');
    checks.push(['verify', step.verify]);
  }
  for (const [key, check] of checks) {
    if (!check) continue;
    add([key, 'run'], check.run, 'command', true);
    add([key, 'delay'], check.delay, 'plan');
    add([key, 'timeout'], check.timeout, 'plan');
    add([key, 'become'], check.become, 'static');
  }
  if ('fetch' in step) {
    add(['fetch', 'src'], step.fetch.src, 'text');
    add(['fetch', 'dest'], step.fetch.dest, 'text');
  }
  if ('pause' in step) {
    if (typeof step.pause === 'string') add(['pause'], step.pause, 'plan');
    else {
      add(['pause', 'duration'], step.pause.duration, 'plan');
      add(['pause', 'message'], step.pause.message, 'text');
    }
  }
  if ('include' in step) for (const [k, v] of Object.entries(step.include.params ?? {})) add(['include', 'params', k], v, 'plan');
  if ('outcome' in step) add(['outcome', 'message'], step.outcome.message, 'text');
  if ('bundle' in step) add(['bundle', 'name'], step.bundle.name, 'text');
  return out;
}

export function stepExpressionFields(step: Step): ExpressionField[] {
  const out: ExpressionField[] = [];
  if (step.when !== undefined) out.push({ path: ['when'], text: step.when, role: 'when' });
  if ('run' in step && step.verify?.until !== undefined) out.push({ path: ['verify', 'until'], text: step.verify.until, role: 'until' });
  if ('properties' in step && step.verify?.until !== undefined) out.push({ path: ['verify', 'until'], text: step.verify.until, role: 'until' });
  if ('wait' in step && step.wait.until !== undefined) out.push({ path: ['wait', 'until'], text: step.wait.until, role: 'until' });
  if ('decide' in step) step.decide.causes.forEach((c, i) => out.push({ path: ['decide', 'causes', i, 'when'], text: c.when, role: 'cause' }));
  if ('outcome' in step) {
    const r = step.outcome.require;
    if (typeof r === 'string') out.push({ path: ['outcome', 'require'], text: r, role: 'require' });
    else r?.forEach((text, i) => out.push({ path: ['outcome', 'require', i], text, role: 'require' }));
  }
  return out;
}

/** A step with where it sits in the file, and the step whose rollback it belongs to. */
export interface StepEntry {
  step: Step;
  kind: StepKind;
  path: Path;
  rollbackOf?: StepEntry;
}

/** Every step in file order: each main step followed by its rollback steps. */
export function walkSteps(steps: readonly Step[], base: Path = ['steps'], rollbackOf?: StepEntry): StepEntry[] {
  const out: StepEntry[] = [];
  steps.forEach((step, i) => {
    const entry: StepEntry = { step, kind: stepKind(step), path: [...base, i], ...(rollbackOf ? { rollbackOf } : {}) };
    out.push(entry);
    const rollback = 'rollback' in step ? step.rollback : undefined;
    if (rollback) out.push(...walkSteps(rollback, [...base, i, 'rollback'], entry));
  });
  return out;
}

/** Fact names a step captures. */
export function capturedBy(step: Step): string[] {
  return Object.keys(step.capture ?? {});
}
