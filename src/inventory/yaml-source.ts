// Reading YAML the way Ansible does (PyYAML, YAML 1.1: `yes` is true, `010` is 8), keeping every
// node's position so each problem can be reported as file:line:col.
import { LineCounter, Scalar, isAlias, isMap, isNode, isPair, isScalar, isSeq, parseDocument, visit } from 'yaml';
import type { Document, Node, Pair, ScalarTag, YAMLMap } from 'yaml';
import type { Diagnostic, SourcePos } from '../errors.js';
import type { VarValue } from './types.js';

export interface YamlSource {
  file: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
}

/** Ansible's own tags: `!unsafe` marks a string not to template, `!vault` an encrypted one. */
const ANSIBLE_TAGS: ScalarTag[] = [
  { tag: '!unsafe', resolve: (s: string) => s },
  { tag: '!vault', resolve: (s: string) => s },
];

/**
 * PyYAML's YAML 1.1 resolvers where the `yaml` package's differ: PyYAML does not take y/n for
 * booleans (a host var `answer: n` stays a string) and wants a dot and a signed exponent in
 * floats (`1e3` stays a string).
 */
const PYYAML_SCALARS: ScalarTag[] = [
  {
    identify: (v) => v === true,
    default: true,
    tag: 'tag:yaml.org,2002:bool',
    test: /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/,
    resolve: () => new Scalar(true),
  },
  {
    identify: (v) => v === false,
    default: true,
    tag: 'tag:yaml.org,2002:bool',
    test: /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/,
    resolve: () => new Scalar(false),
  },
  {
    identify: (v) => typeof v === 'number',
    default: true,
    tag: 'tag:yaml.org,2002:float',
    format: 'EXP',
    test: /^[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*[eE][-+][0-9]+$/,
    resolve: (s: string) => Number.parseFloat(s.replace(/_/g, '')),
  },
];

function replacedByPyYaml(t: unknown): boolean {
  if (typeof t === 'string') return t === 'timestamp' || t === 'bool' || t === 'floatExp';
  if (typeof t !== 'object' || t === null) return false;
  const { tag, format } = t as { tag?: unknown; format?: unknown };
  return String(tag).endsWith(':timestamp') || String(tag).endsWith(':bool') || (String(tag).endsWith(':float') && format === 'EXP');
}

/**
 * Parses YAML 1.1 (as PyYAML does). Timestamps stay strings: a var holding `2024-01-01` is text to
 * a runbook, not a Date. Returns the syntax errors as diagnostics instead of throwing.
 */
export function parseAnsibleYaml(src: string, file: string): { source: YamlSource; diagnostics: Diagnostic[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(src, {
    lineCounter,
    version: '1.1',
    prettyErrors: false,
    customTags: (tags) => [...tags.filter((t) => !replacedByPyYaml(t)), ...PYYAML_SCALARS, ...ANSIBLE_TAGS],
  });
  const source: YamlSource = { file, doc, lineCounter };
  const diagnostics: Diagnostic[] = [];
  const duplicates = doc.errors.some((e) => e.code === 'DUPLICATE_KEY') ? duplicateKeys(source) : [];
  for (const e of doc.errors) {
    if (e.code === 'DUPLICATE_KEY' && duplicates.length > 0) continue;
    diagnostics.push(diagnosticAt(source, nextToken(src, e.pos[0]), firstLine(e.message)));
  }
  if (doc.errors.some((e) => e.code === 'DUPLICATE_KEY')) diagnostics.push(...duplicates);
  for (const w of doc.warnings) diagnostics.push({ ...diagnosticAt(source, nextToken(src, w.pos[0]), firstLine(w.message)), severity: 'warning' });
  if (diagnostics.some((d) => d.severity === 'error')) return { source, diagnostics: sortByPosition(diagnostics) };
  if (src.trimStart().startsWith('$ANSIBLE_VAULT;')) {
    diagnostics.push(diagnosticAt(source, 0, 'the file is encrypted with ansible-vault, which remedy cannot read; decrypt it or pass secrets with -e'));
  }
  visit(doc, {
    Scalar(_key, node, path) {
      if (node.tag !== '!vault') return;
      const owner = path[path.length - 1];
      diagnostics.push({
        ...nodePosition(source, isPair(owner) ? owner : node),
        message: 'ansible-vault values are not supported; pass the secret with -e or an environment variable',
        severity: 'error',
      });
    },
  });
  return { source, diagnostics: sortByPosition(diagnostics) };
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

/** yaml reports some errors at the line break before the culprit; point at the culprit. */
function nextToken(src: string, offset: number): number {
  if (src[offset] !== '\n' && src[offset] !== '\r') return offset;
  let i = offset;
  while (i < src.length && (src[i] === '\n' || src[i] === '\r' || src[i] === ' ')) i++;
  return i < src.length ? i : offset;
}

/** Each repeated key, at the repetition, naming where it first appeared. */
function duplicateKeys(source: YamlSource): Diagnostic[] {
  const found: Diagnostic[] = [];
  visit(source.doc, {
    Map(_key, map) {
      const seen = new Map<string, Pair>();
      for (const pair of map.items) {
        if (isMergeKey(pair.key)) continue;
        const name = keyText(pair.key);
        const first = seen.get(name);
        if (!first) {
          seen.set(name, pair);
          continue;
        }
        const at = nodePosition(source, first);
        found.push({ ...nodePosition(source, pair), message: `duplicate key '${name}' (first at line ${at.line})`, severity: 'error' });
      }
    },
  });
  return found;
}

function sortByPosition(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort((a, b) => a.line - b.line || a.col - b.col);
}

export function positionAt(source: YamlSource, offset: number): SourcePos {
  const { line, col } = source.lineCounter.linePos(offset);
  return { file: source.file, line, col };
}

export function diagnosticAt(source: YamlSource, offset: number, message: string): Diagnostic {
  return { ...positionAt(source, offset), message, severity: 'error' };
}

/** Where a node starts (its first character), or the top of the file when it has no range. */
export function nodePosition(source: YamlSource, node: unknown): SourcePos {
  const offset = isNode(node) || isPair(node) ? startOffset(node) : 0;
  return positionAt(source, offset);
}

function startOffset(node: Node | Pair): number {
  if (isPair(node)) return isNode(node.key) ? startOffset(node.key) : isNode(node.value) ? startOffset(node.value) : 0;
  return node.range?.[0] ?? 0;
}

/**
 * The position of a path inside the document: the key itself when the path ends at a map entry
 * (so "unknown key" and "wrong type" point at the name the user typed), else the nearest
 * existing ancestor.
 */
export function pathPosition(source: YamlSource, path: readonly PropertyKey[]): SourcePos {
  let node: unknown = source.doc.contents;
  let best: unknown = node;
  for (const segment of path) {
    node = deref(source, node);
    let next: unknown;
    if (isMap(node)) {
      const entry = mapEntries(source, node).find((e) => e.key === String(segment));
      best = entry?.keyNode ?? best;
      next = entry?.value;
    } else if (isSeq(node)) {
      next = node.items[Number(segment)];
      best = next ?? best;
    }
    if (next === undefined) break;
    node = next;
  }
  return nodePosition(source, best);
}

/** An alias (`*name`) stands for the node it names. */
export function deref(source: YamlSource, node: unknown): unknown {
  return isAlias(node) ? node.resolve(source.doc) : node;
}

export interface MapEntry {
  key: string;
  value: unknown;
  keyNode: unknown;
}

/**
 * A mapping's entries with YAML 1.1 merge keys (`<<: *defaults`) expanded in place, as PyYAML
 * does: keys written in the mapping itself win, and among merged mappings the first wins.
 */
export function mapEntries(source: YamlSource, map: YAMLMap): MapEntry[] {
  const written = new Set(map.items.filter((p) => !isMergeKey(p.key)).map((p) => keyText(p.key)));
  const seen = new Set<string>();
  const out: MapEntry[] = [];
  for (const pair of map.items) {
    if (!isMergeKey(pair.key)) {
      out.push({ key: keyText(pair.key), value: pair.value, keyNode: pair.key });
      continue;
    }
    const value = deref(source, pair.value);
    for (const from of isSeq(value) ? value.items : [value]) {
      const target = deref(source, from);
      if (!isMap(target)) continue;
      for (const entry of mapEntries(source, target)) {
        if (written.has(entry.key) || seen.has(entry.key)) continue;
        seen.add(entry.key);
        out.push(entry);
      }
    }
  }
  return out;
}

function isMergeKey(key: unknown): boolean {
  return isScalar(key) && typeof key.value === 'symbol';
}

/** A map key as text (`10.0.0.5:` and `1:` are both names to Ansible). */
export function keyText(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  return String(key);
}

/** The plain value of a node, aliases resolved; anything YAML can hold that JSON cannot becomes text. */
export function nodeValue(source: YamlSource, node: unknown): VarValue {
  const js: unknown = isNode(node) ? node.toJS(source.doc, { maxAliasCount: 100 }) : node;
  return toVarValue(js);
}

function toVarValue(v: unknown): VarValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return v; // .inf and .nan too, as PyYAML reads them
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(toVarValue);
  if (v instanceof Set) return [...v].map(toVarValue);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), toVarValue(x)]));
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toVarValue(x)]));
  return String(v);
}
