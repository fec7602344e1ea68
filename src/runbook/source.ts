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

/** Runbooks are a few kilobytes; past this a file is refused before it is parsed. */
export const MAX_RUNBOOK_BYTES = 2 * 1024 * 1024;
/** Runbooks nest a dozen levels; yaml recurses per level and V8 can die (not throw) past a few thousand. */
export const MAX_YAML_DEPTH = 100;
/** Diagnostics kept per file: the first ones, then one line counting the rest. */
export const MAX_FILE_DIAGNOSTICS = 100;

/**
 * Checks a text against the limits before it is parsed: a NUL byte (never in a runbook, and
 * the sign of a binary file), nesting deeper than MAX_YAML_DEPTH. Returns the first problem.
 * Depth is over-estimated from the text in one pass: flow brackets open, plus the block
 * indentation levels open, plus the `- `/`? `/`: ` indicators before a line's content.
 */
export function checkYamlLimits(text: string): { offset: number; message: string } | null {
  const nul = text.indexOf('\0');
  if (nul !== -1) return { offset: nul, message: 'a NUL byte (\\0) is not allowed in a runbook' };
  const indents: number[] = [];
  let flow = 0;
  let quote: '"' | "'" | null = null;
  let lineStart = 0;
  let lineDepth = 0;
  let atLineStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      atLineStart = true;
      lineStart = i + 1;
      continue;
    }
    if (atLineStart) {
      if (c === ' ') continue;
      atLineStart = false;
      if (c === '#' || c === '\r') continue;
      // Block levels open at this line: pop the deeper and equal indentations.
      const col = i - lineStart;
      if (flow === 0 && quote === null) {
        while (indents.length > 0 && (indents.at(-1) ?? 0) >= col) indents.pop();
        indents.push(col);
      }
      lineDepth = 0;
    }
    if (quote !== null) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") {
      const prev = text[i - 1];
      if (prev === undefined || ' \t[{,:-?\n'.includes(prev)) quote = c;
      continue;
    }
    if (c === '#' && (text[i - 1] === ' ' || text[i - 1] === '\t')) {
      const nl = text.indexOf('\n', i);
      i = (nl === -1 ? text.length : nl) - 1;
      continue;
    }
    if (c === '[' || c === '{') flow++;
    else if ((c === ']' || c === '}') && flow > 0) flow--;
    else if ((c === '-' || c === '?' || c === ':') && (text[i + 1] === ' ' || text[i + 1] === '\t')) lineDepth++;
    else continue;
    const depth = flow + indents.length + lineDepth;
    if (depth > MAX_YAML_DEPTH)
      return { offset: i, message: `nesting deeper than ${MAX_YAML_DEPTH} levels: a runbook is never this deep (a generated or corrupted file?)` };
  }
  return null;
}

/** Parses YAML; syntax errors (and duplicate keys) come back as diagnostics (the loader keeps the first MAX_FILE_DIAGNOSTICS). */
export function parseSource(file: string, text: string): { source: SourceFile; diagnostics: Diagnostic[] } {
  const lineCounter = new LineCounter();
  const limit = checkYamlLimits(text);
  if (limit) {
    // Not parsed: an empty document keeps the SourceFile shape for callers that only print.
    lineCounter.addNewLine(0);
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lineCounter.addNewLine(i + 1);
    const pos = lineCounter.linePos(limit.offset);
    return { source: { file, text, doc: parseDocument(''), lineCounter }, diagnostics: [{ file, ...pos, message: limit.message, severity: 'error' }] };
  }
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const diagnostics: Diagnostic[] = [];
  for (const e of doc.errors) {
    const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
    // prettyErrors appends " at line L, column C:" and a code frame; the position is ours to print.
    const message = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
    diagnostics.push({ file, line: pos.line, col: pos.col, message: `YAML: ${message}`, severity: 'error' as const });
  }
  const source = { file, text, doc, lineCounter };
  if (diagnostics.length === 0) for (const d of [...unresolvedAliases(source), ...nulScalars(source)]) diagnostics.push(d);
  return { source, diagnostics };
}

/** A NUL written as an escape ("\0", "\x00", "\u0000"): C strings on the host would cut the value there. */
function nulScalars(source: SourceFile): Diagnostic[] {
  const out: Diagnostic[] = [];
  visit(source.doc, {
    Scalar(_key, node) {
      if (typeof node.value !== 'string' || !node.value.includes('\0') || out.length >= MAX_FILE_DIAGNOSTICS) return;
      const pos = source.lineCounter.linePos(node.range?.[0] ?? 0);
      out.push({ file: source.file, ...pos, message: 'a NUL character (\\0) is not allowed in a runbook value', severity: 'error' });
    },
  });
  return out;
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
