// Collects the problems of one runbook file, each placed at a node of its YAML (or at a
// character inside a string, for templates and CEL expressions).
import type { Diagnostic } from '../errors.js';
import { positionAt, positionInScalar, type Path, type SourceFile } from './source.js';

export interface At {
  /** Point at the key of the last path segment rather than its value. */
  key?: boolean;
  /** Offset inside the string at `path` (templates, expressions). */
  offset?: number;
}

export class Diagnostics {
  readonly list: Diagnostic[] = [];
  readonly source: SourceFile;
  constructor(source: SourceFile) {
    this.source = source;
  }

  private add(severity: Diagnostic['severity'], path: Path, message: string, at: At): void {
    const pos = at.offset !== undefined ? positionInScalar(this.source, path, at.offset) : positionAt(this.source, path, at.key ? { key: true } : {});
    this.list.push({ file: this.source.file, line: pos.line, col: pos.col, message, severity });
  }

  error(path: Path, message: string, at: At = {}): void {
    this.add('error', path, message, at);
  }

  warn(path: Path, message: string, at: At = {}): void {
    this.add('warning', path, message, at);
  }

  get hasErrors(): boolean {
    return this.list.some((d) => d.severity === 'error');
  }
}

/** Human path for messages: steps[2].verify.run. */
export function formatPath(path: Path): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out;
}

/** Sorts by file (in `files` order, else first appearance), then line and column; drops exact duplicates. */
export function orderDiagnostics(list: readonly Diagnostic[], files: readonly string[] = []): Diagnostic[] {
  const fileOrder = new Map<string, number>();
  for (const f of files) if (!fileOrder.has(f)) fileOrder.set(f, fileOrder.size);
  for (const d of list) if (!fileOrder.has(d.file)) fileOrder.set(d.file, fileOrder.size);
  const seen = new Set<string>();
  const unique = list.filter((d) => {
    const key = `${d.file}\0${d.line}\0${d.col}\0${d.severity}\0${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique.sort((a, b) => (fileOrder.get(a.file) ?? 0) - (fileOrder.get(b.file) ?? 0) || a.line - b.line || a.col - b.col);
}
