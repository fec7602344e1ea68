// Editing Java .properties files the way an operator would by hand: keys set in place, new keys
// appended, removed keys dropped, comments, blank lines and order untouched. Apigee's two key
// styles (`conf_http_x=1`, `conf/http.properties+x=1`) are just keys here.
import { createTwoFilesPatch } from 'diff';
import type { PropertiesEdit } from './describe.js';

export { describePropertiesEdit, type PropertiesEdit } from './describe.js';

export interface PropertiesEditResult {
  text: string;
  changed: boolean;
  /** Unified diff (empty when unchanged). */
  diff: string;
}

interface Entry {
  key: string;
  value: string;
  /** Index of the first physical line and how many lines (continuations) it spans. */
  start: number;
  length: number;
}

/** Reads key/value entries with their line spans (handles `=`, `:`, whitespace separators and `\` continuations). */
export function parseProperties(text: string): Entry[] {
  const lines = text.split('\n');
  const entries: Entry[] = [];
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let logical = (lines[i] ?? '').replace(/\r$/, '');
    const trimmed = logical.trimStart();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith('!')) continue;
    while (endsWithContinuation(logical) && i + 1 < lines.length) {
      i++;
      logical = logical.slice(0, -1) + (lines[i] ?? '').replace(/\r$/, '').trimStart();
    }
    const { key, value } = splitEntry(logical.trimStart());
    entries.push({ key, value, start, length: i - start + 1 });
  }
  return entries;
}

export function editProperties(text: string, edit: PropertiesEdit, fileName = 'file.properties'): PropertiesEditResult {
  const lines = text === '' ? [] : text.split('\n');
  const trailingNewline = text.endsWith('\n');
  if (trailingNewline) lines.pop();
  const entries = parseProperties(lines.join('\n'));
  const unset = new Set(edit.unset);
  const pending = new Map(Object.entries(edit.set));
  const replace = new Map<number, string[] | null>();

  for (const entry of entries) {
    if (unset.has(entry.key)) {
      replace.set(entry.start, null);
      continue;
    }
    const value = pending.get(entry.key);
    if (value === undefined) continue;
    if (!replace.has(entry.start)) {
      // First occurrence wins the new value; later duplicates are dropped so the result is unambiguous.
      replace.set(
        entry.start,
        entry.value === value ? (lines.slice(entry.start, entry.start + entry.length) as string[]) : [`${entry.key}=${escapeValue(value)}`],
      );
      pending.delete(entry.key);
    }
  }
  // Duplicated keys after their first occurrence: drop them when they are being set.
  const seen = new Set<string>();
  for (const entry of entries) {
    if (edit.set[entry.key] === undefined) continue;
    if (seen.has(entry.key) && !replace.has(entry.start)) replace.set(entry.start, null);
    seen.add(entry.key);
  }

  const out: string[] = [];
  const spans = new Map(entries.map((e) => [e.start, e.length]));
  for (let i = 0; i < lines.length; i++) {
    if (replace.has(i)) {
      const r = replace.get(i);
      if (r) out.push(...r);
      i += (spans.get(i) ?? 1) - 1;
      continue;
    }
    out.push(lines[i] ?? '');
  }
  for (const [key, value] of pending) out.push(`${key}=${escapeValue(value)}`);

  const result = out.join('\n') + (trailingNewline || (out.length > 0 && text === '') ? '\n' : '');
  const changed = result !== text;
  const diff = changed ? createTwoFilesPatch(fileName, fileName, text, result, 'before', 'after', { context: 2 }) : '';
  return { text: result, changed, diff };
}

function endsWithContinuation(line: string): boolean {
  const m = /\\+$/.exec(line);
  return m !== null && m[0].length % 2 === 1;
}

function splitEntry(line: string): { key: string; value: string } {
  let i = 0;
  let key = '';
  while (i < line.length) {
    const c = line[i] as string;
    if (c === '\\' && i + 1 < line.length) {
      key += line[i + 1];
      i += 2;
      continue;
    }
    if (c === '=' || c === ':' || c === ' ' || c === '\t') break;
    key += c;
    i++;
  }
  while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
  if (line[i] === '=' || line[i] === ':') i++;
  while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
  return { key, value: line.slice(i) };
}

function escapeValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/^ /, '\\ ');
}
