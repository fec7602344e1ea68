// Schema validation with messages an operator can act on. A step is recognised by its one
// action key and checked against that kind's schema alone, so a typo in a `run` step reports
// the typo, not "Invalid input" from every other kind of the union.
import type * as z from 'zod';
import { formatPath, type Diagnostics } from './diagnostics.js';
import { Runbook, STEP_KINDS, STEP_SCHEMAS, VarsFile, type Runbook as RunbookData, type StepKind, type VarsFile as VarsFileData } from './schema.js';
import type { Path } from './source.js';

type Issue = z.core.$ZodIssue;
type AnySchema = z.core.$ZodType;

const READ_ONLY_KINDS = 'fetch, wait, pause, include, outcome and decide';
const KIND_ONLY_KEYS: Record<string, string> = {
  mutates: `"mutates" is only for run steps: a properties step always mutates, and ${READ_ONLY_KINDS} steps never do`,
  verify: `"verify" is only for run and properties steps, which change a host (to re-run a check until it passes, use a wait step)`,
  rollback: `"rollback" is only for run and properties steps, which change a host`,
};

function getIn(data: unknown, path: Path): unknown {
  let cur = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return typeof value === 'string' ? `a string` : `a ${typeof value}`;
}

function expectedName(expected: string): string {
  return (
    ({ object: 'a map', array: 'a list', string: 'a string', number: 'a number', boolean: 'a boolean (true or false)' } as Record<string, string>)[expected] ??
    expected
  );
}

/** Keys a strict object accepts at a path inside a schema (for "did you mean"). */
function objectKeysAt(schema: AnySchema, path: Path): string[] {
  let cur: AnySchema | undefined = schema;
  const unwrap = (s: AnySchema): AnySchema => {
    let x = s;
    for (;;) {
      const def = x._zod.def as { type: string; innerType?: AnySchema };
      if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault') && def.innerType) x = def.innerType;
      else return x;
    }
  };
  const keysOf = (s: AnySchema): string[] | null => {
    const def = unwrap(s)._zod.def as { type: string; shape?: Record<string, AnySchema>; options?: AnySchema[] };
    if (def.type === 'object' && def.shape) return Object.keys(def.shape);
    if (def.type === 'union' && def.options) return def.options.flatMap((o) => keysOf(o) ?? []);
    return null;
  };
  for (const seg of path) {
    if (!cur) return [];
    const def = unwrap(cur)._zod.def as { type: string; shape?: Record<string, AnySchema>; element?: AnySchema; valueType?: AnySchema; options?: AnySchema[] };
    if (def.type === 'object' && def.shape) cur = def.shape[String(seg)];
    else if (def.type === 'array') cur = def.element;
    else if (def.type === 'record') cur = def.valueType;
    else if (def.type === 'union' && def.options) cur = def.options.find((o) => (keysOf(o) ?? []).includes(String(seg))) ?? def.options[0];
    else return [];
  }
  return cur ? (keysOf(cur) ?? []) : [];
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

export function suggest(word: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const dist = editDistance(word.toLowerCase(), c.toLowerCase());
    if (dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  const limit = word.length <= 4 ? 1 : 2;
  return best !== undefined && bestDistance <= limit ? ` (did you mean "${best}"?)` : '';
}

function cleanMessage(message: string): string {
  return message.replace(/^(Invalid input|Invalid option|Too small|Too big|Invalid string|Invalid key in record): /, '');
}

interface Context {
  diags: Diagnostics;
  data: unknown;
  /** The schema validated at `base` (a step kind, or the whole runbook). */
  schema: AnySchema;
  base: Path;
  /** The step kind when `schema` is a step schema. */
  kind?: StepKind;
}

function report(ctx: Context, issue: Issue, prefix: Path = []): void {
  const rel = [...prefix, ...(issue.path as (string | number)[])];
  const path = [...ctx.base, ...rel];
  const where = formatPath(path);
  switch (issue.code) {
    case 'unrecognized_keys':
      for (const key of issue.keys) {
        const special = rel.length === 0 && ctx.kind ? KIND_ONLY_KEYS[key] : undefined;
        if (special) {
          ctx.diags.error([...path, key], special, { key: true });
          continue;
        }
        const owner =
          rel.length === 0 && ctx.kind ? `a ${ctx.kind} step` : where || (ctx.schema === (VarsFile as unknown as AnySchema) ? 'the vars file' : 'the runbook');
        ctx.diags.error([...path, key], `unknown key "${key}" in ${owner}${suggest(key, objectKeysAt(ctx.schema, rel))}`, { key: true });
      }
      return;
    case 'invalid_union': {
      const branches = issue.errors;
      const deeper = branches.filter((b) => b.some((i) => i.path.length > 0));
      const typeMatched = branches.filter((b) => b.length > 0 && b.every((i) => i.path.length === 0 && i.code !== 'invalid_type'));
      const chosen = deeper.length === 1 ? deeper[0] : typeMatched.length === 1 ? typeMatched[0] : undefined;
      if (chosen) {
        for (const i of chosen) report(ctx, i, rel);
        return;
      }
      const options = branches.map((b) => {
        const first = b[0];
        if (!first) return 'something else';
        if (first.code === 'invalid_type') return expectedName(first.expected);
        if (first.code === 'invalid_value') return `one of ${first.values.map(String).join(', ')}`;
        return cleanMessage(first.message);
      });
      ctx.diags.error(path, `${where}: expected ${[...new Set(options)].join(' or ')}, got ${typeName(getIn(ctx.data, rel))}`);
      return;
    }
    case 'invalid_type': {
      const value = getIn(ctx.data, rel);
      if (value === undefined) {
        const key = String(path[path.length - 1]);
        const parent = path.slice(0, -1);
        const owner =
          rel.length === 1 && ctx.kind
            ? `${ctx.kind} step`
            : formatPath(parent) || (ctx.schema === (VarsFile as unknown as AnySchema) ? 'the vars file' : 'runbook');
        ctx.diags.error(parent, `${owner} is missing "${key}"`);
        return;
      }
      ctx.diags.error(path, `${where}: expected ${expectedName(issue.expected)}, got ${typeName(value)}`);
      return;
    }
    case 'invalid_key': {
      const inner = issue.issues[0];
      const what =
        path[path.length - 2] === 'capture'
          ? 'fact name'
          : path[path.length - 2] === 'params'
            ? 'param name'
            : path[path.length - 2] === 'vars'
              ? 'var name'
              : 'key';
      const rule =
        inner && inner.code === 'invalid_format' ? 'use lower_snake_case: a letter, then letters, digits or _' : cleanMessage(inner?.message ?? issue.message);
      ctx.diags.error(path, `invalid ${what} "${String(path[path.length - 1])}": ${rule}`, { key: true });
      return;
    }
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1) ctx.diags.error(path, `${where} must not be empty`);
      else if (issue.origin === 'array' && Number(issue.minimum) === 1) ctx.diags.error(path, `${where} needs at least one item`);
      else ctx.diags.error(path, `${where}: ${cleanMessage(issue.message)}`);
      return;
    case 'invalid_value':
      ctx.diags.error(path, `${where}: expected one of ${issue.values.map(String).join(', ')}, got ${JSON.stringify(getIn(ctx.data, rel))}`);
      return;
    default:
      ctx.diags.error(path, `${where}: ${cleanMessage(issue.message)}`);
  }
}

function isPlainMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkStep(diags: Diagnostics, value: unknown, path: Path): void {
  if (!isPlainMap(value)) {
    diags.error(path, `${formatPath(path)}: a step is a map with id, name and one action (${STEP_KINDS.join(', ')}), got ${typeName(value)}`);
    return;
  }
  const actions = STEP_KINDS.filter((k) => k in value);
  const first = actions[0];
  if (first === undefined) {
    const id = typeof value['id'] === 'string' ? ` "${value['id']}"` : '';
    diags.error(path, `step${id} has no action: add one of ${STEP_KINDS.join(', ')}${suggestAction(value)}`);
    return;
  }
  if (actions.length > 1) {
    diags.error(
      [...path, actions[1] as string],
      `step has both ${first} and ${actions.slice(1).join(' and ')}: a step does one thing (split it into two steps)`,
      { key: true },
    );
    return;
  }
  const schema = STEP_SCHEMAS[first] as unknown as z.ZodType;
  const result = schema.safeParse(value);
  if (!result.success) {
    const ctx: Context = { diags, data: value, schema: schema as AnySchema, base: path, kind: first };
    for (const issue of result.error.issues) {
      // Rollback steps are steps: checked one by one below, with their own kind.
      if (issue.path[0] === 'rollback' && typeof issue.path[1] === 'number') continue;
      report(ctx, issue);
    }
  }
  const rollback = value['rollback'];
  if (Array.isArray(rollback) && (first === 'run' || first === 'properties')) {
    rollback.forEach((r, i) => checkStep(diags, r, [...path, 'rollback', i]));
  }
}

function suggestAction(step: Record<string, unknown>): string {
  for (const key of Object.keys(step)) {
    const hint = suggest(key, STEP_KINDS);
    if (hint) return hint;
  }
  return '';
}

/**
 * Validates the shape of a runbook. Returns the parsed runbook (defaults applied) when the
 * shape is right; otherwise null, with every problem in `diags`.
 */
export function checkStructure(diags: Diagnostics, data: unknown): RunbookData | null {
  if (!isPlainMap(data)) {
    diags.error([], `a runbook is a YAML map with name, summary and steps, got ${data === null || data === undefined ? 'an empty file' : typeName(data)}`);
    return null;
  }
  const result = Runbook.safeParse(data);
  const ctx: Context = { diags, data, schema: Runbook as unknown as AnySchema, base: [] };
  if (!result.success) {
    for (const issue of result.error.issues) {
      if (issue.path[0] === 'steps' && typeof issue.path[1] === 'number') continue;
      report(ctx, issue);
    }
  }
  const steps = data['steps'];
  if (Array.isArray(steps)) steps.forEach((s, i) => checkStep(diags, s, ['steps', i]));
  if (diags.hasErrors) return null;
  if (!result.success) {
    // Every issue should have been reported above; never let an unexplained failure through.
    for (const issue of result.error.issues) report(ctx, issue);
    return null;
  }
  return result.data;
}

/** Validates a shared vars file (imports:). Returns it when the shape is right, else null with every problem in `diags`. */
export function checkVarsFile(diags: Diagnostics, data: unknown): VarsFileData | null {
  if (!isPlainMap(data)) {
    diags.error([], `a vars file is a YAML map with vars:, got ${data === null || data === undefined ? 'an empty file' : typeName(data)}`);
    return null;
  }
  const result = VarsFile.safeParse(data);
  if (result.success) return result.data;
  const ctx: Context = { diags, data, schema: VarsFile as unknown as AnySchema, base: [] };
  for (const issue of result.error.issues) report(ctx, issue);
  return null;
}
