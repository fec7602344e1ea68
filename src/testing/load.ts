// Loading a `*.test.yaml`: YAML with positions → zod schema. Every problem is reported as
// file:line:col (exit 64); a loaded file keeps a way to place any assertion at its line.
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { ValidationError, type Diagnostic } from '../errors.js';
import { displayPath } from '../runbook/load.js';
import { parseSource, positionAt, type Path, type Position, type SourceFile } from '../runbook/source.js';
import { loadCache } from './load-cache.js';
import { ReplySequence, TestFile } from './schema.js';

export interface LoadedTestFile {
  /** Absolute path. */
  file: string;
  /** As shown in messages (relative to the working directory). */
  display: string;
  data: TestFile;
  /** 1-based position of the node at a path (nearest existing parent), e.g. ['cases', 2, 'expect', 'cause']. */
  position(path: Path): Position;
}

type Issue = z.core.$ZodIssue;

const HostReplies = z.record(z.string(), ReplySequence);

/** returns.<step> or cases.N.returns.<step>. */
function isStepReplies(path: Path): boolean {
  const n = path.length;
  return n >= 2 && path[n - 2] === 'returns' && (n === 2 || (n === 4 && path[0] === 'cases'));
}

function valueAt(data: unknown, path: Path): unknown {
  let cur = data;
  for (const seg of path) cur = cur !== null && typeof cur === 'object' ? (cur as Record<string | number, unknown>)[seg] : undefined;
  return cur;
}

/** Union errors: report the branch that got furthest into the value, not "invalid input". */
function flatten(issue: Issue, base: Path = [], value?: unknown): { path: Path; message: string }[] {
  const path = [...base, ...(issue.path as (string | number)[])];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const branches = issue.errors.map((branch) => branch.flatMap((i) => flatten(i, path, value)));
    const depth = (b: { path: Path }[]): number => Math.max(0, ...b.map((i) => i.path.length));
    const best = branches.reduce((a, b) => (depth(b) > depth(a) ? b : a));
    if (best.length > 0 && depth(best) > path.length) return best;
    return [{ path, message: issue.message === 'Invalid input' ? 'not a valid value here (see schema/runbook-test.schema.json)' : issue.message }];
  }
  if (issue.code === 'unrecognized_keys') {
    // `returns.<step>: { w1: {...} }` failing as a reply ("unknown key w1") is a host map whose
    // replies are wrong: report those (zod settles the union on the reply branch).
    if (isStepReplies(path) && value !== undefined) {
      const asHosts = HostReplies.safeParse(valueAt(value, path));
      if (!asHosts.success) return asHosts.error.issues.flatMap((i) => flatten(i, path, value));
    }
    return issue.keys.map((k) => ({ path: [...path, k], message: `unknown key "${k}"` }));
  }
  return [{ path, message: issue.message }];
}

export function loadTestFile(file: string): LoadedTestFile {
  const display = displayPath(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ValidationError([
      { file: display, line: 1, col: 1, message: code === 'ENOENT' ? 'no such file' : `cannot read the file (${code ?? String(err)})`, severity: 'error' },
    ]);
  }
  // The same text loaded before (load-cache.ts): its data, without parsing or validating again.
  const cache = loadCache();
  const cached = cache.testFile(file, display, text);
  if (cached) return { file, display, ...cached };
  const loaded = parseWithSource(file, text);
  return { file, display, data: loaded.data, position: cache.putTestFile(file, text, loaded.data, loaded.source) };
}

/** The same from text already in memory (`--from-run` builds its case without writing a file). */
export function parseTestFile(file: string, text: string): LoadedTestFile {
  const { data, source } = parseWithSource(file, text);
  return { file, display: source.file, data, position: (path) => positionAt(source, path) };
}

function parseWithSource(file: string, text: string): { data: TestFile; source: SourceFile } {
  const display = displayPath(file);
  const { source, diagnostics } = parseSource(display, text);
  if (diagnostics.length > 0) throw new ValidationError(diagnostics);
  const raw: unknown = source.doc.toJS({ maxAliasCount: 100 }) ?? {};
  const parsed = TestFile.safeParse(raw);
  if (!parsed.success) {
    const seen = new Set<string>();
    const out: Diagnostic[] = [];
    for (const issue of parsed.error.issues) {
      for (const { path, message } of flatten(issue, [], raw)) {
        const key = path.length > 0 && message.startsWith('unknown key') ? { key: true } : {};
        const pos = positionAt(source, path, key);
        const line = `${pos.line}:${pos.col}:${message}`;
        if (seen.has(line)) continue;
        seen.add(line);
        out.push({ file: display, line: pos.line, col: pos.col, message: `${path.length > 0 ? `${path.join('.')}: ` : ''}${message}`, severity: 'error' });
      }
    }
    throw new ValidationError(out);
  }
  return { data: parsed.data, source };
}
