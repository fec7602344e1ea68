// Checks what templates and conditions read against what the runbook provides at that point:
// declared params and vars, facts captured by earlier steps, the cause after a decide step.
// Bare names in templates are inventory vars (or params/vars by their short name).
import { selectHosts, validatePattern } from '../inventory/index.js';
import type { Inventory } from '../inventory/types.js';
import { inspectExpression } from '../template/expression.js';
import { analyzeTemplate, commandContextProblems, TemplateError } from '../template/render.js';
import type { Diagnostics } from './diagnostics.js';
import type { ExpressionRole, TemplateContext } from './fields.js';
import type { Path } from './source.js';
import { suggest } from './structure.js';

/** What a runbook provides at one point of its step list. */
export interface Knowledge {
  params: ReadonlySet<string>;
  vars: ReadonlySet<string>;
  /** Facts captured by steps before this one (and by runbooks they include). */
  facts: ReadonlySet<string>;
  /** Every fact the runbook captures anywhere, and the step that does. */
  allFacts: ReadonlyMap<string, string>;
  /** A decide step comes before this one. */
  decided: boolean;
  /** Every cause a decide step of this runbook (or an included one) can conclude. */
  causes: ReadonlySet<string>;
  inventory?: Inventory | undefined;
}

export interface FieldSite {
  diags: Diagnostics;
  path: Path;
  /** `a decide step` etc., when the step runs on the controller (no host). */
  controller?: string | undefined;
  /** Names of the vars declared before this one (for vars values). */
  earlierVars?: ReadonlySet<string>;
}

const TEMPLATE_WHERE: Record<TemplateContext | 'vars', string> = {
  command: '',
  text: '',
  once: 'confirm is shown once for the step, not per host',
  static: 'this value is rendered when the plan is made, before any step runs',
  plan: 'host patterns, durations, counts and include params are rendered before any host is known',
  vars: 'vars are computed before any step runs',
};

function listOrNone(names: ReadonlySet<string>, what: string): string {
  return names.size > 0 ? `declared ${what}: ${[...names].join(', ')}` : `this runbook declares no ${what}`;
}

function factMessage(name: string, k: Knowledge): string {
  const later = k.allFacts.get(name);
  if (later !== undefined) return `fact "${name}" is not captured before this step (step "${later}" captures it later)`;
  return `fact "${name}" is not captured by any earlier step${suggest(name, [...k.facts])}`;
}

const warnedInventoryVars = new WeakMap<Diagnostics, Set<string>>();

/** Ansible's names every host has (see inventory/host-templates.ts). */
const ANSIBLE_MAGIC_VARS: ReadonlySet<string> = new Set(['inventory_hostname', 'inventory_hostname_short', 'group_names', 'groups', 'hostvars']);

/**
 * A bare name that is not a param or var is an inventory var. With an inventory, warn when no
 * host defines it; without one, warn only when it looks like a typo of a param or var.
 */
function checkInventoryVar(site: FieldSite, k: Knowledge, name: string, offset: number): void {
  if (ANSIBLE_MAGIC_VARS.has(name)) return;
  const inv = k.inventory;
  if (inv) for (const host of inv.hosts.values()) if (name in host.vars) return;
  const hint = suggest(name, [...k.params, ...k.vars]);
  if (!inv && !hint) return;
  let warned = warnedInventoryVars.get(site.diags);
  if (!warned) warnedInventoryVars.set(site.diags, (warned = new Set()));
  if (warned.has(name)) return;
  warned.add(name);
  const where = inv ? `, and no host in ${inv.source} defines it` : ', so it must come from the inventory';
  site.diags.warn(site.path, `"${name}" is not a param or var${hint}${where}`, { offset });
}

/** Checks one template field: syntax, then every variable it reads. */
export function checkTemplate(site: FieldSite, text: string, context: TemplateContext | 'vars', k: Knowledge): void {
  const { diags, path } = site;
  let analysis;
  try {
    analysis = analyzeTemplate(text);
  } catch (err) {
    const e = err instanceof TemplateError ? err : new TemplateError(String(err));
    diags.error(path, `template: ${e.message}`, { offset: e.offset ?? 0 });
    return;
  }
  const early = context === 'plan' || context === 'static' || context === 'vars';
  for (const ref of analysis.references) {
    const [root = '', field] = ref.segments;
    const at = { offset: ref.offset };
    const fieldAt = { offset: ref.offset + root.length + 1 };
    switch (root) {
      case 'params':
        if (field !== undefined && !k.params.has(field))
          diags.error(path, `unknown param "${field}"${suggest(field, [...k.params])}; ${listOrNone(k.params, 'params')}`, fieldAt);
        continue;
      case 'vars':
        if (context === 'plan') diags.error(path, `vars cannot be used here: ${TEMPLATE_WHERE.plan}; use params`, at);
        else if (field !== undefined && !k.vars.has(field))
          diags.error(path, `unknown var "${field}"${suggest(field, [...k.vars])}; ${listOrNone(k.vars, 'vars')}`, fieldAt);
        else if (field !== undefined && context === 'vars' && !site.earlierVars?.has(field))
          diags.error(path, `var "${field}" is declared after this one; a var can only use the vars above it`, fieldAt);
        continue;
      case 'facts':
        if (early || context === 'once') diags.error(path, `facts are not known here: ${TEMPLATE_WHERE[context]}`, at);
        else if (site.controller)
          diags.error(
            path,
            `${site.controller} runs once on the controller, not on a host, so it has no facts: read them in a condition with hosts('pattern')`,
            at,
          );
        else if (field !== undefined && !k.facts.has(field)) diags.error(path, factMessage(field, k), fieldAt);
        continue;
      case 'cause':
        if (early) diags.error(path, `cause is not known here: ${TEMPLATE_WHERE[context]}`, at);
        else if (!k.decided) diags.error(path, 'cause is set by a decide step, and no decide step comes before this one', at);
        continue;
      case 'run':
        if (early) diags.error(path, `run.${field ?? 'id'} is not known here: ${TEMPLATE_WHERE[context]}`, at);
        else if (field !== undefined && field !== 'id' && field !== 'dir')
          diags.error(path, `unknown run.${field}: a template can read run.id and run.dir`, fieldAt);
        continue;
      case 'host':
        if (context === 'plan') diags.error(path, `host is not known here: ${TEMPLATE_WHERE.plan}`, at);
        continue;
      case 'steps':
        if (early) diags.error(path, `steps are not known here: ${TEMPLATE_WHERE[context]}`, at);
        continue;
      case 'fleet':
        if (early) diags.error(path, `fleet is not known here: ${TEMPLATE_WHERE[context]}`, at);
        else if (!site.controller) diags.error(path, `fleet.<group> is for steps that run on the controller (outcome messages); on a host, use facts`, at);
        continue;
      default:
        if (context === 'plan') {
          if (!k.params.has(root))
            diags.error(path, `"${root}" is not a param: ${TEMPLATE_WHERE.plan}, so only params can be used${suggest(root, [...k.params])}`, at);
        } else if (context === 'vars' && k.vars.has(root) && !k.params.has(root) && !site.earlierVars?.has(root)) {
          diags.error(path, `var "${root}" is declared after this one; a var can only use the vars above it`, at);
        } else if (!k.params.has(root) && !k.vars.has(root)) {
          checkInventoryVar(site, k, root, ref.offset);
        }
    }
  }
  if (context === 'command') {
    for (const p of commandContextProblems(text)) diags.error(path, p.message, { offset: p.offset });
    for (const offset of analysis.rawOffsets) {
      diags.warn(path, '"| raw" turns off shell quoting: the value is pasted into the command as shell code', { offset });
    }
  }
}

/** Checks a host pattern (and, with an inventory, that it selects someone). */
export function checkPattern(site: FieldSite, pattern: string, k: Knowledge, offset?: number): void {
  const at = offset === undefined ? {} : { offset };
  const problem = validatePattern(pattern);
  if (problem !== null) {
    site.diags.error(site.path, problem, at);
    return;
  }
  if (k.inventory && selectHosts(k.inventory, pattern).length === 0) {
    site.diags.warn(site.path, `host pattern "${pattern}" matches no host in ${k.inventory.source}`, at);
  }
}

/** Checks one CEL condition: syntax and types, then every name it reads. */
export function checkCondition(site: FieldSite, text: string, role: ExpressionRole, k: Knowledge): void {
  const { diags, path } = site;
  const result = inspectExpression(text);
  if (!result.ok) {
    diags.error(path, `invalid condition: ${result.message}`, { offset: result.offset });
    return;
  }
  if (result.type !== 'bool' && result.type !== 'dyn') {
    diags.error(
      path,
      `a condition must be true or false, but this one is ${result.type === 'int' || result.type === 'double' ? 'a number' : `of type ${result.type}`}`,
    );
  }
  const r = result.refs;
  const controller = role === 'cause' ? 'a decide condition' : role === 'require' ? 'an outcome requirement' : site.controller;
  if (controller && (r.usesHost || r.hostFacts.length > 0)) {
    const first = r.hostFacts[0];
    diags.error(
      path,
      `${controller} runs on the controller, not on a host: use hosts('pattern').all(h, …)/.exists(h, …) to read facts`,
      first ? { offset: first.offset } : {},
    );
  } else {
    for (const f of r.hostFacts) if (!k.facts.has(f.name)) diags.error(path, factMessage(f.name, k), { offset: f.offset });
  }
  for (const f of r.fleetFacts) if (!k.facts.has(f.name)) diags.error(path, factMessage(f.name, k), { offset: f.offset });
  for (const p of r.params)
    if (!k.params.has(p.name))
      diags.error(path, `unknown param "${p.name}"${suggest(p.name, [...k.params])}; ${listOrNone(k.params, 'params')}`, { offset: p.offset });
  for (const v of r.vars)
    if (!k.vars.has(v.name)) diags.error(path, `unknown var "${v.name}"${suggest(v.name, [...k.vars])}; ${listOrNone(k.vars, 'vars')}`, { offset: v.offset });
  if (r.usesResult && role !== 'until') diags.error(path, 'result (the output of a retried check) is only available in until: conditions');
  if (r.usesCause && !k.decided) diags.error(path, 'cause is set by a decide step, and no decide step comes before this one');
  for (const c of r.causeLiterals) {
    if (k.decided && !k.causes.has(c.name)) {
      diags.error(
        path,
        `cause "${c.name}" is never concluded by a decide step${suggest(c.name, [...k.causes])}; possible causes: ${[...k.causes].join(', ')}`,
        { offset: c.offset },
      );
    }
  }
  for (const p of r.patterns) checkPattern(site, p.name, k, p.offset);
}
