// A runbook file as text and YAML AST, so every diagnostic points at the line and column an
// operator sees in their editor, including positions inside a multi-line `run: |` block.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type Scalar } from 'yaml';
import type { Diagnostic } from '../errors.js';

export type Path = readonly (string | number)[];
export interface Position {
  line: number;
  col: number;
}

export interface SourceFile {
  file: string;
  text: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
}

/** Parses YAML; syntax errors (and duplicate keys) come back as diagnostics. */
export function parseSource(file: string, text: string): { source: SourceFile; diagnostics: Diagnostic[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const diagnostics: Diagnostic[] = doc.errors.map((e) => {
    const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
    // prettyErrors appends " at line L, column C:" and a code frame; the position is ours to print.
    const message = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
    return { file, line: pos.line, col: pos.col, message: `YAML: ${message}`, severity: 'error' as const };
  });
  const source = { file, text, doc, lineCounter };
  if (diagnostics.length === 0) diagnostics.push(...unresolvedAliases(source));
  return { source, diagnostics };
}

/** `*name` without an `&name` before it: yaml only notices when converting, without a position. */
function unresolvedAliases(source: SourceFile): Diagnostic[] {
  const out: Diagnostic[] = [];
  visit(source.doc, {
    Alias(_key, node) {
      if (node.resolve(source.doc) !== undefined) return;
      const pos = source.lineCounter.linePos(node.range?.[0] ?? 0);
      out.push({ file: source.file, ...pos, message: `YAML: unknown alias *${node.source}: no anchor &${node.source} before it`, severity: 'error' });
    },
  });
  return out;
}

/** The node at a path, or the nearest ancestor that exists; with `key`, the key of the last pair. */
export function nodeAt(source: SourceFile, path: Path, options: { key?: boolean } = {}): { node: Node | null; exact: boolean } {
  let node: unknown = source.doc.contents;
  let found: Node | null = (node as Node | null) ?? null;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) return { node: found, exact: false };
      if (options.key && i === path.length - 1 && pair.key) return { node: pair.key as Node, exact: true };
      node = pair.value;
      // `key:` with no value: point at the key.
      if (node === null || node === undefined) return { node: (pair.key as Node) ?? found, exact: i === path.length - 1 };
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      if (node === undefined) return { node: found, exact: false };
    } else {
      return { node: found, exact: false };
    }
    found = node as Node;
  }
  return { node: found, exact: true };
}

export function offsetPosition(source: SourceFile, offset: number): Position {
  return source.lineCounter.linePos(offset);
}

/** 1-based position of the node at a path (or its nearest ancestor). */
export function positionAt(source: SourceFile, path: Path, options: { key?: boolean } = {}): Position {
  const { node } = nodeAt(source, path, options);
  const start = node?.range?.[0];
  return start === undefined ? { line: 1, col: 1 } : offsetPosition(source, start);
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';

/**
 * Position of a character inside a string scalar, given its offset in the parsed value. Aligns
 * the value with its source text, skipping what YAML removes (quotes, block indentation, folded
 * line breaks, escapes), so `run: |` blocks and quoted strings map exactly in the usual cases.
 */
export function positionInScalar(source: SourceFile, path: Path, offset: number): Position {
  const { node, exact } = nodeAt(source, path);
  if (!exact || !isScalar(node) || typeof node.value !== 'string' || !node.range) return positionAt(source, path);
  const scalar = node as Scalar<string>;
  const value = scalar.value;
  const [start, end] = scalar.range as [number, number, number];
  const text = source.text;
  let p = start;
  if (scalar.type === 'QUOTE_DOUBLE' || scalar.type === 'QUOTE_SINGLE') p += 1;
  else if (scalar.type === 'BLOCK_LITERAL' || scalar.type === 'BLOCK_FOLDED') {
    const nl = text.indexOf('\n', p);
    p = nl === -1 ? p : nl + 1;
  }
  const target = Math.min(offset, value.length);
  for (let i = 0; i < target && p < end; i++) {
    const c = value[i];
    if (text[p] === c) {
      p++;
    } else if (isSpace(c) && isSpace(text[p])) {
      while (p < end && isSpace(text[p])) p++;
    } else if (isSpace(text[p])) {
      // Indentation of a block line, or a folded line break: not part of the value.
      while (p < end && isSpace(text[p])) p++;
      if (text[p] === c) p++;
    } else {
      // An escape such as \" or '' stands for one character: skip a few source characters at most.
      const q = text.indexOf(c ?? '', p);
      p = q === -1 || q >= end || q - p > 4 ? p + 1 : q + 1;
    }
  }
  // Land on the character itself, not on the indentation before it.
  const c = value[target];
  if (c !== undefined && !isSpace(c)) {
    const q = text.indexOf(c, p);
    if (q !== -1 && q < end && /^\s*$/.test(text.slice(p, q))) p = q;
  }
  return offsetPosition(source, Math.min(p, text.length));
}
