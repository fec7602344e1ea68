// Everything the schema cannot say: unique ids, goto targets, facts captured before use, params
// that fit their types, includes that receive what they declare, regexes that compile, and the
// warnings that keep a runbook honest about what it changes.
import type { Inventory } from '../inventory/types.js';
import type { Diagnostics } from './diagnostics.js';
import { capturedBy, CONTROLLER_KINDS, stepExpressionFields, stepTemplateFields, walkSteps, type StepEntry } from './fields.js';
import type { LoadedRunbook } from './load.js';
import { coerceParam, paramPattern } from './params.js';
import { checkCondition, checkPattern, checkTemplate, type FieldSite, type Knowledge } from './references.js';
import { stepMutates, TEMPLATE_PATTERN, type Runbook } from './schema.js';
import { positionAt } from './source.js';
import { suggest } from './structure.js';

export interface SemanticInput {
  diags: Diagnostics;
  runbook: Runbook;
  /** Loaded includes, by including step id (missing when the include failed to load). */
  includes: ReadonlyMap<string, LoadedRunbook>;
  /** The file's base name without extension, to compare with `name`. */
  fileStem: string;
  inventory?: Inventory | undefined;
  /** Vars that came from imported files, with the diagnostics of the file that declares each. */
  importedVars?: ReadonlyMap<string, Diagnostics> | undefined;
}

/** Commands that usually change a host; a run step using one without `mutates: true` gets a warning. */
const MUTATING_COMMAND =
  /\b(?:re)?start\b|\bstop\b|\brm\s|\bkill\s+(?!-(?:0|3|QUIT|SIGQUIT)\b)|\bpkill\b|\bkillall\b|\bmv\s|\bsed\s+(?:-\w+\s+)*-i|\bsystemctl\s+(?!status\b|is-active\b|is-enabled\b|is-failed\b|show\b|cat\b|list-)|\breboot\b|\bshutdown\b/;

/** Keys that mean nothing on a step that runs once on the controller. */
const HOST_ONLY_KEYS = ['hosts', 'serial', 'max_unavailable', 'max_fail_percentage', 'become', 'capture', 'retries', 'delay', 'repeat', 'timeout'] as const;

/** Facts a runbook captures, its own and those of runbooks it includes (not rollback steps). */
export function runbookFacts(loaded: { runbook: Runbook; includes: ReadonlyMap<string, LoadedRunbook> }, seen = new Set<object>()): Map<string, string> {
  const out = new Map<string, string>();
  if (seen.has(loaded)) return out;
  seen.add(loaded);
  for (const step of loaded.runbook.steps) {
    for (const f of capturedBy(step)) if (!out.has(f)) out.set(f, step.id);
    const child = 'include' in step ? loaded.includes.get(step.id) : undefined;
    if (child) for (const [f] of runbookFacts(child, seen)) if (!out.has(f)) out.set(f, step.id);
  }
  return out;
}

function runbookCauses(loaded: { runbook: Runbook; includes: ReadonlyMap<string, LoadedRunbook> }, seen = new Set<object>()): Set<string> {
  const out = new Set<string>();
  if (seen.has(loaded)) return out;
  seen.add(loaded);
  for (const step of loaded.runbook.steps) {
    if ('decide' in step) {
      for (const c of step.decide.causes) out.add(c.cause);
      out.add(step.decide.default);
    }
    const child = 'include' in step ? loaded.includes.get(step.id) : undefined;
    if (child) for (const c of runbookCauses(child, seen)) out.add(c);
  }
  return out;
}

const article = (word: string): string => (/^[aeiou]/.test(word) ? 'an' : 'a');

/** "Invalid regular expression: /(a/: Unterminated group" → "Unterminated group". */
function regexProblem(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
}

function checkParams(diags: Diagnostics, runbook: Runbook): void {
  for (const [name, p] of Object.entries(runbook.params ?? {})) {
    const at = ['params', name];
    if (p.type === 'enum' && !p.values) diags.error(at, `param ${name} is an enum without values: list them under values:`);
    if (p.type !== 'enum' && p.values) diags.error([...at, 'values'], `param ${name}: values are for type enum (this param is ${p.type})`, { key: true });
    if (p.pattern !== undefined) {
      if (p.type !== 'string') diags.error([...at, 'pattern'], `param ${name}: pattern is for type string (this param is ${p.type})`, { key: true });
      try {
        new RegExp(p.pattern);
        paramPattern(p.pattern);
      } catch (err) {
        diags.error([...at, 'pattern'], `param ${name}: invalid regular expression: ${regexProblem(err)}`);
      }
    }
    if ((p.min !== undefined || p.max !== undefined) && p.type !== 'integer') {
      diags.error([...at, p.min !== undefined ? 'min' : 'max'], `param ${name}: min and max are for type integer (this param is ${p.type})`, { key: true });
    }
    if (p.min !== undefined && p.max !== undefined && p.min > p.max) diags.error([...at, 'min'], `param ${name}: min ${p.min} is above max ${p.max}`);
    if (p.default !== undefined) {
      const r = coerceParam(p, p.default);
      if (!r.ok) diags.error([...at, 'default'], `param ${name}: default: ${r.message}`);
      if (p.required) diags.warn([...at, 'required'], `param ${name}: required has no effect when there is a default`, { key: true });
    }
  }
}

/** `evidence:` reads a command's output, like a capture; its line filter must compile. */
function checkEvidence(diags: Diagnostics, entry: StepEntry): void {
  const { step, kind, path } = entry;
  if (step.evidence === undefined) return;
  if (kind !== 'run' && kind !== 'wait') {
    diags.error([...path, 'evidence'], `evidence marks lines of a command's output: only run and wait steps have one (this is a ${kind} step)`, { key: true });
    return;
  }
  if (step.evidence === true || step.evidence.lines === undefined) return;
  try {
    new RegExp(step.evidence.lines);
  } catch (err) {
    diags.error([...path, 'evidence', 'lines'], `evidence lines: invalid regular expression: ${regexProblem(err)}`);
  }
}

function checkCaptures(diags: Diagnostics, entry: StepEntry): void {
  const { step, kind, path } = entry;
  if (!step.capture) return;
  if (kind !== 'run' && kind !== 'wait') {
    diags.error([...path, 'capture'], `capture reads a command's output: only run and wait steps capture (this is a ${kind} step)`, { key: true });
    return;
  }
  for (const [fact, spec] of Object.entries(step.capture)) {
    if (typeof spec === 'string' || spec.regex === undefined) {
      if (typeof spec !== 'string' && (spec.group !== undefined || spec.all))
        diags.error([...path, 'capture', fact], `capture ${fact}: group and all need a regex`);
      continue;
    }
    const at = [...path, 'capture', fact, 'regex'];
    let re: RegExp;
    try {
      re = new RegExp(spec.regex);
    } catch (err) {
      diags.error(at, `capture ${fact}: invalid regular expression: ${regexProblem(err)}`);
      continue;
    }
    const groups = new RegExp(`${re.source}|`).exec('')?.length ?? 1;
    if (typeof spec.group === 'number' && spec.group > groups - 1) {
      diags.error([...path, 'capture', fact, 'group'], `capture ${fact}: the regex has ${groups - 1} group(s), there is no group ${spec.group}`);
    }
    if (typeof spec.group === 'string' && !re.source.includes(`(?<${spec.group}>`)) {
      diags.error([...path, 'capture', fact, 'group'], `capture ${fact}: the regex has no group named "${spec.group}"`);
    }
  }
}

function checkKindRules(diags: Diagnostics, entry: StepEntry): void {
  const { step, kind, path } = entry;
  const raw = step as Record<string, unknown>;
  if (CONTROLLER_KINDS.has(kind)) {
    for (const key of HOST_ONLY_KEYS) {
      if (raw[key] !== undefined)
        diags.error([...path, key], `${article(kind)} ${kind} step runs once on the controller, so "${key}" means nothing here`, { key: true });
    }
  }
  if (step.rollback_hosts !== undefined && !entry.rollbackOf) {
    diags.error([...path, 'rollback_hosts'], 'rollback_hosts says which hosts a rollback step runs on; it only applies to a step inside rollback:', {
      key: true,
    });
  }
  if (kind === 'pause' && step.become !== undefined)
    diags.error([...path, 'become'], 'a pause step runs no command, so "become" means nothing here', { key: true });
  const mutates = stepMutates(step);
  if (step.confirm !== undefined && !mutates && kind !== 'include') {
    diags.warn([...path, 'confirm'], `confirm is asked before steps that change a host; this ${kind} step is read-only, so it is never asked`, { key: true });
  }
  if ('run' in step && !mutates) {
    if (step.rollback)
      diags.warn([...path, 'rollback'], 'rollback runs when a mutating step fails; this run step is read-only (add mutates: true if it changes the host)', {
        key: true,
      });
    else if (step.verify)
      diags.warn([...path, 'verify'], 'verify checks a change; this run step is read-only (add mutates: true if it changes the host)', { key: true });
    // An explicit `mutates: false` is the author's declaration (e.g. cleaning up its own temp
    // files); only an undeclared step gets the heuristic warning.
    const m = step.mutates === false ? null : MUTATING_COMMAND.exec(step.run);
    if (m)
      diags.warn(
        [...path, 'run'],
        `this command looks like it changes the host ("${m[0].trim()}") but the step does not declare mutates: true (or mutates: false if it does not)`,
        { offset: m.index },
      );
  }
  if ('outcome' in step && step.outcome.status !== 'escalate' && step.outcome.require === undefined) {
    diags.warn(
      [...path, 'outcome', 'status'],
      `an unguarded all-clear: nothing checks that this run saw what "${step.outcome.status}" claims; add require: with the conditions that prove it (they end the run escalated, exit 3, when they do not hold)`,
    );
  }
  if (kind === 'decide' && 'decide' in step) {
    const seen = new Set<string>();
    step.decide.causes.forEach((c, i) => {
      if (seen.has(c.cause)) diags.error([...path, 'decide', 'causes', i, 'cause'], `cause "${c.cause}" is listed twice`);
      seen.add(c.cause);
    });
    if (seen.has(step.decide.default)) diags.warn([...path, 'decide', 'default'], `the default cause "${step.decide.default}" is also a listed cause`);
  }
  for (const key of ['serial', 'max_unavailable'] as const) {
    const v = step[key];
    if (typeof v === 'string' && !TEMPLATE_PATTERN.test(v) && Number.parseInt(v, 10) > 100) diags.error([...path, key], `${key}: ${v} is more than 100%`);
  }
}

function checkInclude(diags: Diagnostics, entry: StepEntry, child: LoadedRunbook | undefined): void {
  const { step, path } = entry;
  if (!('include' in step) || !child) return;
  const declared = child.runbook.params ?? {};
  const given = step.include.params ?? {};
  for (const [key, value] of Object.entries(given)) {
    const param = declared[key];
    if (!param) {
      diags.error([...path, 'include', 'params', key], `runbook ${child.runbook.name} has no param "${key}"${suggest(key, Object.keys(declared))}`, {
        key: true,
      });
      continue;
    }
    if (typeof value === 'string' && TEMPLATE_PATTERN.test(value)) continue;
    const r = coerceParam(param, value);
    if (!r.ok) diags.error([...path, 'include', 'params', key], `param ${key} of ${child.runbook.name}: ${r.message}`);
  }
  const missing = Object.entries(declared)
    .filter(([k, p]) => p.required && p.default === undefined && !(k in given))
    .map(([k]) => k);
  if (missing.length > 0)
    diags.error(
      [...path, 'include'],
      `runbook ${child.runbook.name} requires param${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: add ${missing.length > 1 ? 'them' : 'it'} under include.params`,
    );
}

export function checkSemantics(input: SemanticInput): void {
  const { diags, runbook, includes } = input;
  if (runbook.name !== input.fileStem)
    diags.warn(['name'], `runbook name "${runbook.name}" differs from its file name "${input.fileStem}": remedy finds runbooks by file name`);
  checkParams(diags, runbook);

  const entries = walkSteps(runbook.steps);
  const ids = new Map<string, StepEntry>();
  for (const e of entries) {
    const first = ids.get(e.step.id);
    if (first) diags.error([...e.path, 'id'], `duplicate step id "${e.step.id}" (first used on line ${positionAt(diags.source, [...first.path, 'id']).line})`);
    else ids.set(e.step.id, e);
  }
  const mainIds = runbook.steps.map((s) => s.id);

  const allFacts = runbookFacts({ runbook, includes });
  const causes = runbookCauses({ runbook, includes });
  const params = new Set(Object.keys(runbook.params ?? {}));
  const vars = new Set(Object.keys(runbook.vars ?? {}));
  const base = { params, vars, allFacts, causes, inventory: input.inventory };

  // vars: templates over params, inventory vars and the vars above them.
  const earlierVars = new Set<string>();
  for (const [name, value] of Object.entries(runbook.vars ?? {})) {
    const where = input.importedVars?.get(name) ?? diags;
    if (typeof value === 'string')
      checkTemplate({ diags: where, path: ['vars', name], earlierVars }, value, 'vars', { ...base, facts: new Set(), decided: false });
    earlierVars.add(name);
  }

  // Facts and the cause become known step by step; a rollback sees its parent's captures.
  let facts = new Set<string>();
  let decided = false;
  const rollbackFacts = new Map<StepEntry, Set<string>>();
  for (const entry of entries) {
    const { step, kind, path } = entry;
    let known: Set<string>;
    if (entry.rollbackOf) {
      known = rollbackFacts.get(entry.rollbackOf) ?? new Set([...facts, ...capturedBy(entry.rollbackOf.step)]);
      rollbackFacts.set(entry.rollbackOf, new Set([...known, ...capturedBy(step)]));
    } else {
      known = facts;
    }
    const k: Knowledge = { ...base, facts: known, decided };
    const controller = CONTROLLER_KINDS.has(kind) ? `${article(kind)} ${kind} step` : undefined;
    const withOwn: Knowledge = { ...k, facts: new Set([...known, ...capturedBy(step)]) };

    for (const field of stepTemplateFields(step)) {
      const site: FieldSite = { diags, path: [...path, ...field.path], controller };
      // verify runs after the step's command, so it may read what the step captured.
      checkTemplate(site, field.text, field.context, field.path[0] === 'verify' ? withOwn : k);
    }
    for (const field of stepExpressionFields(step)) {
      checkCondition({ diags, path: [...path, ...field.path], controller }, field.text, field.role, field.path[0] === 'verify' ? withOwn : k);
    }
    if (step.hosts !== undefined && !TEMPLATE_PATTERN.test(step.hosts)) checkPattern({ diags, path: [...path, 'hosts'] }, step.hosts, k);

    const goto = typeof step.on_failure === 'object' ? step.on_failure.goto : undefined;
    if (goto !== undefined && !mainIds.includes(goto)) {
      const where = ids.has(goto) ? ` ("${goto}" is a rollback step; goto must name a main step)` : suggest(goto, mainIds);
      diags.error([...path, 'on_failure', 'goto'], `on_failure goes to "${goto}", but there is no step with that id${where}`);
    }
    checkCaptures(diags, entry);
    checkEvidence(diags, entry);
    checkKindRules(diags, entry);
    checkInclude(diags, entry, includes.get(step.id));

    if (!entry.rollbackOf) {
      facts = new Set([...facts, ...capturedBy(step)]);
      const child = 'include' in step ? includes.get(step.id) : undefined;
      if (child) {
        for (const [f] of runbookFacts(child)) facts.add(f);
        if (runbookCauses(child).size > 0) decided = true;
      }
      if (kind === 'decide') decided = true;
    }
  }
}
