// Reads Ansible YAML inventories unchanged: groups with `hosts`, `children` and `vars`, hosts with
// or without vars, nested children, a host in several groups. Structure is checked with the zod
// schema first, so every problem is reported at its file:line:col, all at once.
import { isMap, isScalar } from 'yaml';
import type { YAMLMap } from 'yaml';
import type * as z from 'zod';
import { ValidationError } from '../errors.js';
import type { Diagnostic } from '../errors.js';
import { InventoryBuilder } from './builder.js';
import type { RawInventory } from './builder.js';
import { parseHostEntry } from './host-range.js';
import { InventoryFile } from './schema.js';
import { deref, diagnosticAt, mapEntries, nodePosition, nodeValue, parseAnsibleYaml, pathPosition } from './yaml-source.js';
import type { YamlSource } from './yaml-source.js';

export function readYamlInventory(src: string, file: string): RawInventory {
  const builder = new InventoryBuilder(file);
  readYamlInto(builder, src, file);
  return builder.finish();
}

/** Adds one YAML source to an inventory being built (a directory inventory has several). */
export function readYamlInto(builder: InventoryBuilder, src: string, file: string): void {
  const { source, diagnostics } = parseAnsibleYaml(src, file);
  const fail = (more: Diagnostic[] = []): never => {
    throw new ValidationError([...diagnostics, ...more]);
  };
  if (diagnostics.some((d) => d.severity === 'error')) fail();

  const contents = source.doc.contents;
  if (contents === null || (isScalar(contents) && (contents.value === null || contents.value === ''))) {
    fail([diagnosticAt(source, 0, 'the inventory is empty; it needs at least `all:` with hosts')]);
  }
  if (!isMap(contents)) {
    fail([diagnosticAt(source, contents?.range?.[0] ?? 0, 'an inventory is a mapping of group names (usually a single `all:`)')]);
  }

  const data: unknown = source.doc.toJS({ maxAliasCount: 100 });
  const checked = InventoryFile.safeParse(finiteForSchema(data));
  if (!checked.success) {
    const issues = checked.error.issues.flatMap((issue) => flattenUnion(issue, []));
    fail(issues.map((issue) => issueDiagnostic(source, data, issue)).sort((a, b) => a.line - b.line || a.col - b.col));
  }

  for (const entry of mapEntries(source, contents as YAMLMap)) readGroup(builder, source, entry.key, entry.value);
  if (builder.failed) fail(builder.diagnostics);
  for (const w of diagnostics) if (w.severity === 'warning') builder.diagnostics.push(w);
}

function readGroup(b: InventoryBuilder, source: YamlSource, name: string, node: unknown): void {
  b.addGroup(name);
  const group = deref(source, node);
  if (!isMap(group)) return; // `group:` with nothing under it (the schema allowed only null here)
  for (const section of mapEntries(source, group)) {
    const body = deref(source, section.value);
    if (section.key === 'vars' && isMap(body)) {
      for (const v of mapEntries(source, body)) b.setGroupVar(name, v.key, nodeValue(source, v.value), nodePosition(source, v.keyNode));
    } else if (section.key === 'children') {
      for (const [child, childNode, keyNode] of entries(source, body)) {
        // Linked before it is read, so a loop is reported where it closes (the inner name).
        b.addChild(name, child, nodePosition(source, keyNode));
        readGroup(b, source, child, childNode);
      }
    } else if (section.key === 'hosts') {
      for (const [entry, hostNode, keyNode] of entries(source, body)) readHosts(b, source, name, entry, hostNode, keyNode);
    }
  }
}

function readHosts(b: InventoryBuilder, source: YamlSource, group: string, entry: string, node: unknown, keyNode: unknown): void {
  const at = nodePosition(source, keyNode);
  const parsed = parseHostEntry(entry);
  if (!parsed.ok) {
    b.error(at, parsed.error);
    return;
  }
  const vars = deref(source, node);
  const pairs = isMap(vars) ? mapEntries(source, vars) : [];
  for (const host of parsed.names) {
    b.addHost(group, host, parsed.port, at);
    for (const v of pairs) b.setHostVar(host, v.key, nodeValue(source, v.value), nodePosition(source, v.keyNode));
  }
}

/** `hosts:`/`children:` hold a mapping, or (as Ansible allows) one bare name. */
function entries(source: YamlSource, body: unknown): [string, unknown, unknown][] {
  if (isMap(body)) return mapEntries(source, body).map((e) => [e.key, e.value, e.keyNode]);
  if (isScalar(body) && typeof body.value === 'string' && body.value !== '') return [[body.value, null, body]];
  return [];
}

// ---- zod issues → diagnostics -------------------------------------------------------------

type Issue = z.core.$ZodIssue;

/**
 * A union (hosts: mapping | name | nothing) that failed deep inside its mapping branch is
 * reported as that branch's own issues, at their own paths, rather than "invalid input" at the
 * top. Branch paths are relative to the union, so they are re-rooted here.
 */
function flattenUnion(issue: Issue, prefix: PropertyKey[]): Issue[] {
  const path = [...prefix, ...issue.path];
  if (issue.code !== 'invalid_union') return [{ ...issue, path }];
  const typed = issue.errors.filter((branch) => branch.length > 0 && !branch.some((i) => i.path.length === 0 && i.code === 'invalid_type'));
  const chosen = typed[0];
  if (!chosen) return [{ ...issue, path }];
  return chosen.flatMap((i) => flattenUnion(i, path));
}

function issueDiagnostic(source: YamlSource, data: unknown, issue: Issue): Diagnostic {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? p.toString() : p));
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const where = path.length ? `${path.join('.')}: ` : '';
    const message =
      path.length === 0
        ? `'${key}' is not a group`
        : `unknown key '${key}'${issue.keys.length > 1 ? ` (and ${issue.keys.slice(1).join(', ')})` : ''}; a group has only hosts, children and vars`;
    return diagnostic(source, [...path, key], `${where}${message}`);
  }
  const value = valueAt(data, path);
  return diagnostic(source, path, `${path.join('.') || '(top level)'}: ${explain(issue, value, path)}`);
}

function diagnostic(source: YamlSource, path: PropertyKey[], message: string): Diagnostic {
  return { ...pathPosition(source, path), message, severity: 'error' };
}

function explain(issue: Issue, value: unknown, path: PropertyKey[]): string {
  const last = path[path.length - 1];
  const parent = path[path.length - 2];
  if (Array.isArray(value) && (path.length === 1 || parent === 'children')) {
    return 'a group is a mapping with hosts:, children: and vars:, not a list';
  }
  if (parent === 'hosts' && value !== null && typeof value !== 'object') {
    return `a host takes a mapping of its vars (e.g. \`ansible_host: 10.0.0.5\` on the next line, indented) or nothing, got ${describe(value)}`;
  }
  if ((last === 'hosts' || last === 'children') && Array.isArray(value)) {
    return last === 'hosts'
      ? 'hosts is a mapping of host names, not a list: write `mp-1:` (with a colon) on its own line, vars indented under it'
      : 'children is a mapping of group names, not a list: write `routers:` (with a colon) on its own line';
  }
  if (issue.code === 'invalid_union') return `expected ${unionExpectation(issue)}, got ${describe(value)}`;
  if (issue.code === 'invalid_type') return `expected ${typeName(issue.expected)}, got ${describe(value)}`;
  return issue.message;
}

function unionExpectation(issue: z.core.$ZodIssueInvalidUnion): string {
  const expected = new Set<string>();
  for (const branch of issue.errors) for (const i of branch) if (i.code === 'invalid_type') expected.add(typeName(i.expected));
  return [...expected].join(' or ') || 'a different value';
}

function typeName(expected: string): string {
  const names: Record<string, string> = {
    record: 'a mapping',
    object: 'a mapping',
    array: 'a list',
    string: 'a string',
    number: 'a number',
    int: 'an integer',
    boolean: 'true or false',
    null: 'nothing',
  };
  return names[expected] ?? expected;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function valueAt(data: unknown, path: PropertyKey[]): unknown {
  let v: unknown = data;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** The schema's JSON values have no .inf/.nan; YAML (and Ansible) do, so they pass as numbers' text. */
function finiteForSchema(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (Array.isArray(v)) return v.map(finiteForSchema);
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, finiteForSchema(x)]));
  return v;
}
