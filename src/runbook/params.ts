// Typed params: `-e key=value` strings and YAML defaults coerced by the param's declared type,
// with the same rules for both, so a default that validates is a value that runs.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { UsageError, ValidationError } from '../errors.js';
import { isDuration } from './duration.js';
import type { LoadedRunbook } from './load.js';
import type { Param } from './schema.js';

export type ParamValue = string | number | boolean;

const TRUE_WORDS = new Set(['true', 'yes', 'on', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'off', '0']);

/** Compiles a param's `pattern` (matched against the whole value). Throws SyntaxError on a bad regex. */
export function paramPattern(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

/** Coerces one value by the param's type; returns the value or why it does not fit. */
export function coerceParam(param: Param, raw: ParamValue): { ok: true; value: ParamValue } | { ok: false; message: string } {
  const text = String(raw).trim();
  let value: ParamValue;
  switch (param.type) {
    case 'integer': {
      if (typeof raw === 'boolean' || !/^[+-]?\d+$/.test(text)) return { ok: false, message: `expected an integer, got ${JSON.stringify(raw)}` };
      value = Number(text);
      if (!Number.isSafeInteger(value)) return { ok: false, message: `${text} is too large` };
      if (param.min !== undefined && value < param.min) return { ok: false, message: `${value} is below the minimum ${param.min}` };
      if (param.max !== undefined && value > param.max) return { ok: false, message: `${value} is above the maximum ${param.max}` };
      return { ok: true, value };
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      const word = text.toLowerCase();
      if (TRUE_WORDS.has(word)) return { ok: true, value: true };
      if (FALSE_WORDS.has(word)) return { ok: true, value: false };
      return { ok: false, message: `expected true or false, got ${JSON.stringify(raw)}` };
    }
    case 'duration':
      if (!isDuration(text)) return { ok: false, message: `expected a duration such as 30s, 5m or 1m30s, got ${JSON.stringify(raw)}` };
      return { ok: true, value: text };
    case 'enum':
      if (!(param.values ?? []).includes(text)) return { ok: false, message: `expected one of ${(param.values ?? []).join(', ')}, got ${JSON.stringify(raw)}` };
      return { ok: true, value: text };
    default:
      value = typeof raw === 'string' ? raw : String(raw);
      if (param.pattern !== undefined) {
        let re: RegExp;
        try {
          re = paramPattern(param.pattern);
        } catch {
          return { ok: false, message: `the param's pattern is not a valid regular expression` };
        }
        if (!re.test(value)) return { ok: false, message: `${JSON.stringify(value)} does not match the pattern ${param.pattern}` };
      }
      return { ok: true, value };
  }
}

/**
 * Params for a run: declared defaults, overridden by -e values, coerced by type. Unknown keys,
 * bad values and missing required params are usage errors (exit 64). A param with neither a
 * default nor a value is left out (a template reading it then fails, naming it).
 */
export function resolveParams(loaded: LoadedRunbook, overrides: Record<string, string>): Record<string, unknown> {
  const declared = loaded.runbook.params ?? {};
  const names = Object.keys(declared);
  const problems: string[] = [];
  for (const key of Object.keys(overrides)) {
    if (!(key in declared)) {
      problems.push(`unknown param "${key}" for runbook ${loaded.runbook.name} (${names.length ? `its params: ${names.join(', ')}` : 'it has no params'})`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [name, param] of Object.entries(declared)) {
    const given = overrides[name];
    if (given !== undefined) {
      const r = coerceParam(param, given);
      if (r.ok) out[name] = r.value;
      // A secret's value never reaches the terminal, not even in an error.
      else problems.push(`param ${name}: ${param.secret && given !== '' ? r.message.split(given).join('********') : r.message}`);
    } else if (param.default !== undefined) {
      const r = coerceParam(param, param.default);
      if (r.ok) out[name] = r.value;
      else {
        const pos = loaded.position(['params', name, 'default']);
        throw new ValidationError([{ file: loaded.file, ...pos, message: `param ${name}: default: ${r.message}`, severity: 'error' }]);
      }
    } else if (param.required) {
      problems.push(`param ${name} is required for runbook ${loaded.runbook.name}: pass -e ${name}=VALUE`);
    }
  }
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return out;
}

function scalarText(key: string, value: unknown, from: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new UsageError(`${from}: the value of "${key}" must be a string, number or boolean`);
}

function mapEntries(data: unknown, from: string): Record<string, string> {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new UsageError(`${from}: expected a map of key: value`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data as Record<string, unknown>)) out[k] = scalarText(k, v, from);
  return out;
}

/** Parses `-e key=value` arguments, `-e @file.yaml` (a YAML map) and `-e '{key: value}'`; later wins. */
export function parseExtraVars(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const arg of args) {
    if (arg.startsWith('@')) {
      const file = arg.slice(1);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new UsageError(`-e ${arg}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
      let data: unknown;
      try {
        data = parseYaml(text);
      } catch (err) {
        throw new UsageError(`-e ${arg}: ${(err as Error).message.split('\n')[0] ?? 'not valid YAML'}`);
      }
      Object.assign(out, mapEntries(data ?? {}, `-e ${arg}`));
      continue;
    }
    if (arg.trimStart().startsWith('{')) {
      let data: unknown;
      try {
        data = parseYaml(arg);
      } catch {
        throw new UsageError(`-e ${arg}: not a valid {key: value} map`);
      }
      Object.assign(out, mapEntries(data, `-e ${arg}`));
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new UsageError(`-e expects key=value, @file.yaml or {key: value}, got "${arg}"`);
    out[arg.slice(0, eq).trim()] = arg.slice(eq + 1);
  }
  return out;
}
