// The planner: runbook × inventory × params → Plan. Pure: it reads the loaded files it is given
// and nothing else — no connection, no process on any host. Same inputs, byte-identical plan.
import { UsageError, ValidationError } from '../errors.js';
import { limitHosts, refuseUnusableHosts } from '../inventory/index.js';
import { hostSecrets } from '../inventory/secrets.js';
import type { Host, Inventory } from '../inventory/types.js';
import { describePropertiesEdit } from '../properties/describe.js';
import { Redactor } from '../redact/redactor.js';
import { resolveParams, type LoadedRunbook } from '../runbook/index.js';
import { DEFAULT_BUNDLE_NAME, stepKind, stepMutates, type Check, type EvidenceSpec, type Step } from '../runbook/schema.js';
import { describeExpression } from '../template/expression.js';
import { renderText } from '../template/index.js';
import { batchHosts, combinePatterns, countOf, joinConditions, renderCount, renderDuration, selectCombined, staticVerdict } from './controls.js';
import { planHash } from './hash.js';
import { renderHostCommand, renderHostText as renderHostTextAt } from './render-host.js';
import {
  verifyOf,
  type KindPart,
  type PlanStepKind,
  type StepCommon,
  type StepTemplates,
  type OnFailurePolicy,
  type Plan,
  type PlanEvidence,
  type PlanStep,
  type PlannedCommand,
  type StepOf,
} from './types.js';

export interface PlanInput {
  loaded: LoadedRunbook;
  inventory: Inventory;
  /** Raw `-e key=value` overrides. */
  overrides?: Record<string, string>;
  /** `--limit PATTERN`. */
  limit?: string | undefined;
}

interface Level {
  loaded: LoadedRunbook;
  params: Record<string, unknown>;
  prefix: string;
  includePath: string[];
  /** Conditions inherited from the including step(s), all of which must hold. */
  when: string[];
  /** Host pattern inherited from the including step, for steps that name none. */
  hosts: string | null;
  /** The template scope shared by every step of this level (one object, so per-host caches hit). */
  scope?: PlanStep['scope'];
}

function levelScope(ctx: PlanContext, level: Level): PlanStep['scope'] {
  level.scope ??= internedScope(ctx.inventory, level.loaded, level.params);
  return level.scope;
}

/**
 * One scope object per (inventory, runbook level, params): the caches keyed on a scope (rendered
 * vars and scopes per host, commands that read no run-time value) then serve every plan with
 * the same inputs at that level. An included runbook often gets the same params whatever the
 * top-level ones are, and `remedy test` plans one runbook dozens of times. Scopes are never
 * written to; the caches are per inventory because they are keyed by host name.
 */
const scopes = new WeakMap<Inventory, WeakMap<PlanInput['loaded'], Map<string, PlanStep['scope']>>>();
function internedScope(inventory: Inventory, loaded: PlanInput['loaded'], params: Record<string, unknown>): PlanStep['scope'] {
  let byRunbook = scopes.get(inventory);
  if (!byRunbook) scopes.set(inventory, (byRunbook = new WeakMap()));
  let byParams = byRunbook.get(loaded);
  if (!byParams) byRunbook.set(loaded, (byParams = new Map()));
  const key = JSON.stringify(params);
  let scope = byParams.get(key);
  if (!scope) {
    // A long-lived process (remedy serve) plans with ever new params: keep the most recent ones.
    if (byParams.size >= 256) byParams.clear();
    byParams.set(key, (scope = { params, vars: (loaded.runbook.vars ?? {}) as Record<string, unknown> }));
  }
  return scope;
}

export function planRunbook(input: PlanInput): Plan {
  const { loaded, inventory } = input;
  const params = resolveParams(loaded, input.overrides ?? {});
  checkHostVarParams(loaded, inventory, input.overrides ?? {});
  const secretParams = Object.entries(loaded.runbook.params ?? {})
    .filter(([, p]) => p.secret === true)
    .map(([name]) => name)
    .sort();
  const secrets = new Set<string>();
  for (const name of secretParams) {
    const v = params[name];
    if (v !== undefined && v !== null && String(v) !== '') secrets.add(String(v));
  }
  // Passwords anywhere in the inventory (SSH and become), whether or not a step uses them.
  for (const host of inventory.hosts.values()) for (const s of hostSecrets(host)) secrets.add(s);
  const redactor = new Redactor(secrets);
  const allowed = input.limit ? new Set(limitHosts(inventory, [...inventory.hosts.keys()], input.limit)) : null;

  const ctx: PlanContext = { inventory, allowed, redactor, causes: new Set(), warnings: [], unlimited: new Set() };
  const steps = expandLevel(ctx, { loaded, params, prefix: '', includePath: [], when: [], hosts: null });

  const targeted = new Set(steps.flatMap((s) => [...s.hosts, ...s.rollback.flatMap((r) => r.hosts)]));
  const hosts = [...inventory.hosts.keys()].filter((h) => targeted.has(h));
  // Hosts the inventory describes in a way remedy cannot honour are refused only when targeted.
  refuseUnusableHosts(inventory, hosts);
  for (const h of hosts) {
    if (inventory.hosts.get(h)?.implicit)
      ctx.warnings.push(`${h} is not in the inventory: using the implicit localhost (a local connection; it does not match 'all')`);
  }
  const redactedParams: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) redactedParams[k] = secretParams.includes(k) ? '********' : v;

  const plan: Plan = {
    runbook: loaded.runbook.name,
    file: loaded.file,
    summary: loaded.runbook.summary,
    planHash: '',
    params: redactedParams,
    secretParams,
    hosts,
    limit: input.limit ? { pattern: input.limit, excluded: [...inventory.hosts.keys()].filter((h) => ctx.unlimited.has(h) && !targeted.has(h)) } : null,
    steps,
    causes: [...ctx.causes],
    warnings: ctx.warnings,
    secrets: [...secrets],
  };
  plan.planHash = planHash(plan);
  return plan;
}

/**
 * A param with `values_from_host_var: region` given a value no host of the inventory has for that
 * var: refused before anything runs (exit 64), naming the values the inventory has. Otherwise a
 * typo (dc-9 for dc-1) plans a run whose steps all skip and ends `unknown` — true, but the
 * operator asked for something that does not exist, and should hear it as such. Not checked
 * without an inventory (`remedy graph`, `validate`), nor for the default.
 */
function checkHostVarParams(loaded: PlanInput['loaded'], inventory: Inventory, overrides: Record<string, string>): void {
  if (inventory.hosts.size === 0) return;
  const problems: string[] = [];
  for (const [name, param] of Object.entries(loaded.runbook.params ?? {})) {
    const key = param.values_from_host_var;
    const given = overrides[name];
    if (key === undefined || given === undefined || given === String(param.default ?? '')) continue;
    const values = new Set<string>();
    for (const host of inventory.hosts.values()) {
      const v = host.vars[key];
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') values.add(String(v));
    }
    if (values.has(given)) continue;
    const known = [...values].sort();
    const shown = param.secret ? '********' : JSON.stringify(given);
    problems.push(
      `param ${name}: ${shown} is not the ${key} of any host in ${inventory.source} (${known.length > 0 ? `its hosts have ${key}: ${known.join(', ')}` : `no host sets ${key}`}${param.default !== undefined ? `; or the default, ${String(param.default)}` : ''})`,
    );
  }
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
}

interface PlanContext {
  inventory: Inventory;
  allowed: Set<string> | null;
  redactor: Redactor;
  causes: Set<string>;
  warnings: string[];
  /** Hosts the step patterns select before --limit (what a limit leaves out is recorded). */
  unlimited: Set<string>;
}

function expandLevel(ctx: PlanContext, level: Level): PlanStep[] {
  const out: PlanStep[] = [];
  level.loaded.runbook.steps.forEach((step, index) => {
    out.push(...expandStep(ctx, level, step, ['steps', index]));
  });
  return out;
}

function expandStep(ctx: PlanContext, level: Level, step: Step, path: (string | number)[]): PlanStep[] {
  const kind = stepKind(step);
  // Conditions over params alone are decided now: a step they rule out is not in the plan, and
  // a part that always holds is not shown. Parts that need facts or the cause stay for run time.
  const parts = [...level.when, ...(step.when ? [step.when] : [])];
  const open: string[] = [];
  for (const part of parts) {
    const verdict = staticVerdict(part, level.params);
    if (verdict === false) return [];
    if (verdict === null) open.push(part);
  }
  const when = joinConditions(open);
  if (kind === 'include' && 'include' in step) {
    const child = level.loaded.includes.get(step.id);
    if (!child) throw new ValidationError([{ ...pos(level, path), message: `include ${step.include.runbook} was not loaded`, severity: 'error' }]);
    const scope = levelScope(ctx, level);
    const overrides: Record<string, string> = {};
    for (const [k, v] of Object.entries(step.include.params ?? {})) {
      overrides[k] = typeof v === 'string' ? renderText(v, { ...scope.params, params: scope.params }) : String(v);
    }
    const params = resolveParams(child, overrides);
    return expandLevel(ctx, {
      loaded: child,
      params,
      prefix: `${level.prefix}${step.id}.`,
      includePath: [...level.includePath, step.id],
      when: open,
      hosts: combinePatterns(step.hosts ?? null, level.hosts),
    });
  }
  // A bundle runs on the controller even inside an include that names hosts.
  const hosts = kind === 'bundle' ? null : combinePatterns(step.hosts ?? null, level.hosts);
  return [buildStep(ctx, level, step, when, hosts, path)];
}

function buildStep(ctx: PlanContext, level: Level, step: Step, when: string | null, hostPattern: string | null, path: (string | number)[]): PlanStep {
  const scope = levelScope(ctx, level);
  const renderedPattern = hostPattern === null ? null : renderText(hostPattern, { ...scope.params, params: scope.params });
  let hosts: string[] = [];
  if (renderedPattern !== null) {
    const selected = selectCombined(ctx.inventory, renderedPattern);
    for (const h of selected) ctx.unlimited.add(h);
    hosts = selected.filter((h) => ctx.allowed === null || ctx.allowed.has(h));
    if (hosts.length === 0) ctx.warnings.push(`step ${level.prefix}${step.id}: pattern "${renderedPattern}" matches no host`);
  }
  const at = planStepPos(level, path);
  const dur = (value: string): number => renderDuration(value, scope.params, at);
  const part = kindPart(step, dur, planStepPos(level, path));
  if (part.kind === 'decide') {
    for (const c of part.templates.decide.causes) ctx.causes.add(c.cause);
    ctx.causes.add(part.templates.decide.default);
  }
  // The kind's part is written out, not spread: an object literal that starts with a spread is
  // built property by property, and at 40 fields that cost more than the rest of buildStep.
  const planStep = {
    kind: part.kind,
    templates: part.templates,
    id: `${level.prefix}${step.id}`,
    name: step.name,
    mutates: stepMutates(step),
    skippable: 'run' in step && step.skippable === true,
    when,
    whenText: when === null ? null : describeExpression(when),
    confirm: step.confirm ?? null,
    hostPattern: renderedPattern,
    hosts,
    batches: step.serial === undefined ? null : batchHosts(hosts, renderCount(step.serial, scope.params, planStepPos(level, path))),
    commands: [],
    diff: null,
    timeoutMs: step.timeout ? dur(step.timeout) : null,
    retries: step.retries ?? 0,
    delayMs: step.delay ? dur(step.delay) : 0,
    repeat: step.repeat
      ? { count: Number(renderCount(step.repeat.count, scope.params, at)), intervalMs: step.repeat.interval ? dur(step.repeat.interval) : 0 }
      : null,
    maxUnavailable:
      step.max_unavailable === undefined ? null : countOf(renderCount(step.max_unavailable, scope.params, planStepPos(level, path)), hosts.length),
    maxFailPercentage: step.max_fail_percentage ?? null,
    onFailure: onFailure(step),
    become: step.become ?? null,
    capture: step.capture ?? {},
    evidence: planEvidence(step.evidence, step.name),
    evidenceFacts: Object.entries(step.capture ?? {})
      .filter(([, c]) => typeof c === 'object' && c.evidence === true)
      .map(([name]) => name),
    rollback: [],
    rollbackHosts: step.rollback_hosts ?? 'failed',
    includePath: level.includePath,
    source: { file: level.loaded.file, ...level.loaded.position(path) },
    scope,
    dynamic: false,
  } satisfies StepCommon & { kind: PlanStepKind; templates: StepTemplates } as PlanStep;
  const rollback = 'rollback' in step ? (step.rollback ?? []) : [];
  // A rollback step names its own hosts (undoing an MP change may need the Routers too), or
  // inherits the failed step's.
  planStep.rollback = rollback.flatMap((r, i) => {
    if (r.when !== undefined && staticVerdict(r.when, level.params) === false) return [];
    const rWhen = r.when !== undefined && staticVerdict(r.when, level.params) === true ? null : (r.when ?? null);
    return [buildStep(ctx, level, r, rWhen, r.hosts ?? renderedPattern, [...path, 'rollback', i])];
  });
  planStep.commands = plannedCommands(ctx, planStep);
  if (planStep.kind === 'properties') planStep.diff = intendedEdit(ctx, planStep);
  planStep.dynamic = planStep.commands.some((c) => c.command.includes('⟨')) || /\b(facts|cause|hosts)\b/.test(when ?? '');
  return planStep;
}

function plannedCommands(ctx: PlanContext, step: PlanStep): PlannedCommand[] {
  const out: PlannedCommand[] = [];
  for (const name of step.hosts) {
    try {
      out.push(...plannedCommandsForHost(ctx, step, name));
    } catch (err) {
      if (!(err instanceof Error) || err instanceof ValidationError) throw err;
      throw new ValidationError([{ ...step.source, message: `step ${step.id} on host ${name}: ${err.message}`, severity: 'error' }]);
    }
  }
  return out;
}

function plannedCommandsForHost(ctx: PlanContext, step: PlanStep, name: string): PlannedCommand[] {
  const host = ctx.inventory.hosts.get(name) as Host;
  let command: string;
  switch (step.kind) {
    case 'run':
      command = renderHostCommand(null, step, host, step.templates.run, null).command;
      break;
    case 'wait': {
      const w = step.templates.wait;
      const become = w.become !== undefined ? (w.become === true ? host.become.user : w.become === false ? null : w.become) : undefined;
      command = renderHostCommand(null, step, host, w.run, null, become).command;
      break;
    }
    case 'properties': {
      const p = step.templates.properties;
      const file = renderHostText(step, host, p.file);
      const sets = Object.entries(p.set).map(([k, v]) => `set ${k}=${renderHostText(step, host, v)}`);
      const owner = p.owner ? `, owner ${renderHostText(step, host, p.owner)}` : '';
      command = `edit ${file}: ${[...sets, ...p.unset.map((k) => `unset ${k}`)].join(', ')}${owner}${p.backup ? ` (backup to ${file}.remedy-⟨run.id⟩.bak first)` : ''}`;
      break;
    }
    case 'fetch':
      command = `fetch ${renderHostText(step, host, step.templates.fetch.src)} → artifacts/${name}/`;
      break;
    case 'pause':
      command = `pause ${step.templates.pauseMs} ms`;
      break;
    default:
      // Controller kinds (decide, outcome, bundle) send nothing to hosts.
      return [];
  }
  const out: PlannedCommand[] = [{ host: name, command: ctx.redactor.redact(command) }];
  const verify = verifyOf(step);
  if (verify) {
    const rendered = renderHostCommand(null, step, host, verify.run, null).command;
    out.push({ host: name, command: ctx.redactor.redact(`verify: ${rendered}`) });
  }
  return out;
}

/** The edit as +/- lines with values rendered per host; identical hosts share one listing. */
function intendedEdit(ctx: PlanContext, step: StepOf<'properties'>): string {
  const p = step.templates.properties;
  const listings = new Map<string, string[]>();
  for (const name of step.hosts) {
    const host = ctx.inventory.hosts.get(name) as Host;
    const set = Object.fromEntries(Object.entries(p.set).map(([k, v]) => [k, renderHostText(step, host, v)]));
    const text = ctx.redactor.redact(describePropertiesEdit({ set, unset: p.unset }));
    listings.set(text, [...(listings.get(text) ?? []), name]);
  }
  if (listings.size <= 1) return [...listings.keys()][0] ?? describePropertiesEdit(p);
  return [...listings].map(([text, hosts]) => `# ${hosts.join(', ')}\n${text}`).join('\n');
}

function renderHostText(step: PlanStep, host: Host, template: string): string {
  return renderHostTextAt(null, step, host, template, null);
}

/** The runbook step's kind and exactly its templates (include never gets here: it is inlined). */
function kindPart(step: Step, durationMs: (value: string) => number, at: { file: string; line: number; col: number }): KindPart {
  // Checks keep their shape, with templated durations resolved to plain ones (e.g. "2500ms").
  const check = <C extends Check | undefined>(c: C): C =>
    c === undefined
      ? c
      : ({
          ...c,
          delay: c.delay === undefined ? undefined : `${durationMs(c.delay)}ms`,
          timeout: c.timeout === undefined ? undefined : `${durationMs(c.timeout)}ms`,
        } as C);
  if ('run' in step) return { kind: 'run', templates: { run: step.run, verify: check(step.verify) } };
  if ('properties' in step) {
    const p = step.properties;
    return {
      kind: 'properties',
      templates: {
        properties: {
          file: p.file,
          set: Object.fromEntries(Object.entries(p.set ?? {}).map(([k, v]) => [k, String(v)])),
          unset: p.unset ?? [],
          backup: p.backup,
          owner: p.owner,
          mode: p.mode,
        },
        verify: check(step.verify),
      },
    };
  }
  if ('fetch' in step) return { kind: 'fetch', templates: { fetch: { src: step.fetch.src, dest: step.fetch.dest, optional: step.fetch.optional ?? false } } };
  if ('wait' in step) return { kind: 'wait', templates: { wait: check(step.wait) } };
  if ('pause' in step) {
    const p = step.pause;
    return { kind: 'pause', templates: typeof p === 'string' ? { pauseMs: durationMs(p) } : { pauseMs: durationMs(p.duration), pauseMessage: p.message } };
  }
  if ('outcome' in step) {
    const r = step.outcome.require;
    return {
      kind: 'outcome',
      templates: { outcome: { status: step.outcome.status, message: step.outcome.message, require: r === undefined ? [] : typeof r === 'string' ? [r] : r } },
    };
  }
  if ('decide' in step) return { kind: 'decide', templates: { decide: step.decide } };
  if ('bundle' in step) return { kind: 'bundle', templates: { bundle: { name: step.bundle.name ?? DEFAULT_BUNDLE_NAME, files: step.bundle.files } } };
  throw new ValidationError([{ ...at, message: `step ${step.id}: a ${stepKind(step)} step cannot be planned here`, severity: 'error' }]);
}

function onFailure(step: Step): OnFailurePolicy {
  const f = step.on_failure;
  if (f === undefined || f === 'abort') return { action: 'abort' };
  if (f === 'continue') return { action: 'continue' };
  return { action: 'goto', step: f.goto };
}

function planStepPos(level: Level, path: (string | number)[]): { file: string; line: number; col: number } {
  return pos(level, path);
}

/**
 * An include's hosts narrow the included steps: their own pattern within the include's. Written
 * `own WITHIN inherited` and intersected as sets, because joining with `:&` would change what a
 * union inside either pattern means (Ansible applies unions before intersections).
 */

function pos(level: Level, path: (string | number)[]): { file: string; line: number; col: number } {
  return { file: level.loaded.file, ...level.loaded.position(path) };
}

/** Defaults of a step's `evidence:` (every stdout line, at most 40 per host, titled by the step). */
function planEvidence(spec: EvidenceSpec | undefined, stepName: string): PlanEvidence | null {
  if (spec === undefined) return null;
  const o = spec === true ? {} : spec;
  return { title: o.title ?? stepName, from: o.from ?? 'stdout', lines: o.lines ?? null, maxLines: o.max_lines ?? DEFAULT_EVIDENCE_LINES };
}

export const DEFAULT_EVIDENCE_LINES = 40;
