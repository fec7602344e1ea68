// Loads remedy.policy.yaml: YAML with positions (the runbook loader's helpers), the zod schema,
// then what a schema cannot say (regexes compile, templates parse, windows end after they start).
// Every problem comes back as file:line:col, all at once.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type * as z from 'zod';
import { ValidationError, type Diagnostic } from '../errors.js';
import { parseSource, positionAt, type Path, type SourceFile } from '../runbook/source.js';
import { compile } from '../template/engine.js';
import { PolicyFile, type Policy } from './policy-schema.js';

export interface LoadedPolicy {
  file: string;
  policy: Policy;
}

function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a map' : `${typeof v} ${JSON.stringify(v)}`;
}

function getIn(data: unknown, path: readonly PropertyKey[]): unknown {
  let cur = data;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('') || 'policy';
}

function issueDiagnostic(source: SourceFile, data: unknown, issue: z.core.$ZodIssue): Diagnostic {
  const path = issue.path as (string | number)[];
  const where = formatPath(path);
  const at = (p: Path, key = false): Diagnostic => ({ file: source.file, ...positionAt(source, p, { key }), message: '', severity: 'error' });
  switch (issue.code) {
    case 'unrecognized_keys':
      return {
        ...at([...path, issue.keys[0] ?? ''], true),
        message: `${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`,
      };
    case 'invalid_type': {
      const value = getIn(data, path);
      if (value === undefined) return { ...at(path.slice(0, -1)), message: `${formatPath(path.slice(0, -1))} is missing "${String(path[path.length - 1])}"` };
      return { ...at(path), message: `${where}: expected ${issue.expected}, got ${typeName(value)}` };
    }
    case 'too_small':
      if (issue.origin === 'array' && Number(issue.minimum) === 1)
        return { ...at(path), message: `${where} needs at least one ${path.at(-1) === 'routes' ? 'route' : 'item'}` };
      return { ...at(path), message: `${where}: ${issue.message}` };
    case 'invalid_value':
      return { ...at(path), message: `${where}: expected one of ${issue.values.map(String).join(', ')}, got ${JSON.stringify(getIn(data, path))}` };
    default:
      return { ...at(path), message: `${where}: ${issue.message}` };
  }
}

/** Checks a schema-valid policy for what zod cannot see. */
function semanticDiagnostics(source: SourceFile, policy: Policy): Diagnostic[] {
  const out: Diagnostic[] = [];
  const error = (path: Path, message: string): void => void out.push({ file: source.file, ...positionAt(source, path), message, severity: 'error' });
  const names = new Set<string>();
  policy.auth.tokens.forEach((t, i) => {
    if (names.has(t.name)) error(['auth', 'tokens', i, 'name'], `token name "${t.name}" is used twice`);
    names.add(t.name);
    if (t.scheme !== 'bearer' && t.role !== 'hook')
      error(['auth', 'tokens', i, 'scheme'], `scheme ${t.scheme} signs webhook bodies: only a hook token can use it`);
  });
  policy.routes.forEach((r, i) => {
    for (const [label, re] of Object.entries(r.match_re ?? {})) {
      try {
        new RegExp(`^(?:${re})$`);
      } catch (err) {
        error(['routes', i, 'match_re', label], `invalid regular expression: ${(err as Error).message}`);
      }
    }
    const templates: [Path, string][] = Object.entries(r.params).map(([k, v]) => [['routes', i, 'params', k], v]);
    if (r.limit !== undefined) templates.push([['routes', i, 'limit'], r.limit]);
    for (const [path, text] of templates) {
      try {
        compile('text', text);
      } catch (err) {
        error(path, `template: ${(err as Error).message}`);
      }
    }
  });
  policy.maintenance.forEach((m, i) => {
    if (Date.parse(m.end) <= Date.parse(m.start)) error(['maintenance', i, 'end'], `maintenance window "${m.name}" ends before it starts`);
  });
  return out;
}

export function parsePolicy(file: string, text: string): LoadedPolicy {
  const { source, diagnostics } = parseSource(file, text);
  if (diagnostics.length > 0) throw new ValidationError(diagnostics);
  const data: unknown = source.doc.toJS();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ValidationError([{ file, line: 1, col: 1, message: `a policy is a YAML map with auth and routes, got ${typeName(data)}`, severity: 'error' }]);
  }
  const parsed = PolicyFile.safeParse(data);
  if (!parsed.success) throw new ValidationError(parsed.error.issues.map((i) => issueDiagnostic(source, data, i)));
  const semantic = semanticDiagnostics(source, parsed.data);
  if (semantic.length > 0) throw new ValidationError(semantic);
  return { file, policy: parsed.data };
}

export function loadPolicy(path: string): LoadedPolicy {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ValidationError([
      { file: path, line: 1, col: 1, message: `cannot read the policy: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, severity: 'error' },
    ]);
  }
  return parsePolicy(path, text);
}
