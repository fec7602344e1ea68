// How `remedy test` shows results: one line per case, and for a failure the assertion's
// file:line:col with a diff of expected (-) against actual (+); or JSON lines for machines.
import { diffLines } from 'diff';
import { stringify } from 'yaml';
import { formatDiagnostic, type Diagnostic } from '../errors.js';
import type { Colors } from '../ui/format.js';
import type { CaseResult, SuiteResult } from './suite.js';

function asText(value: unknown): string {
  if (typeof value === 'string') return value.endsWith('\n') ? value : `${value}\n`;
  // Short values on one line ([[mp-1], [mp-2]]); long lists one item a line, so the diff shows which.
  const flow = stringify(value, { lineWidth: 0, collectionStyle: 'flow' });
  return flow.length <= 80 ? flow : stringify(value, { lineWidth: 0 });
}

/** Expected against actual, line by line: `-` expected, `+` actual, unchanged lines kept for context. */
export function renderDiff(expected: unknown, actual: unknown, c: Colors): string {
  const lines: string[] = [`${c.red('- expected')}  ${c.green('+ actual')}`];
  for (const part of diffLines(asText(expected), asText(actual))) {
    const body = part.value.replace(/\n$/, '').split('\n');
    for (const l of body) {
      if (part.added) lines.push(c.green(`+ ${l}`));
      else if (part.removed) lines.push(c.red(`- ${l}`));
      else lines.push(`  ${l}`);
    }
  }
  return lines.join('\n');
}

function indent(text: string, by: string): string {
  return text.replace(/^/gm, by);
}

export function renderCaseText(r: CaseResult, c: Colors): string {
  const title = `${r.file} › ${r.name}`;
  const time = c.dim(`(${Math.round(r.ms)} ms)`);
  if (r.status === 'passed') return `${c.green('✓')} ${title} ${time}\n`;
  if (r.status === 'error')
    return `${c.red('!')} ${title}\n${indent(`${r.file}:${r.line}:${r.col}: the case could not run:\n${indent(r.error ?? '', '  ')}`, '    ')}\n`;
  const out = [`${c.red('✗')} ${title} ${time}`];
  for (const f of r.failures) {
    out.push(indent(`${c.bold(`${r.file}:${f.line}:${f.col}`)}: ${f.path.join('.')}: ${f.message}`, '    '));
    out.push(indent(renderDiff(f.expected, f.actual, c), '      '));
  }
  return `${out.join('\n')}\n`;
}

export function renderSummaryText(s: SuiteResult, c: Colors): string {
  const passed = s.cases.filter((x) => x.status === 'passed').length;
  const failed = s.cases.filter((x) => x.status === 'failed').length;
  const errors = s.cases.filter((x) => x.status === 'error').length;
  const parts = [c.green(`${passed} passed`)];
  if (failed > 0) parts.push(c.red(`${failed} failed`));
  if (errors > 0) parts.push(c.red(`${errors} could not run`));
  if (s.invalid.length > 0) parts.push(c.red(`${new Set(s.invalid.map((d) => d.file)).size} invalid test file(s)`));
  const invalid = s.invalid.map((d: Diagnostic) => `${formatDiagnostic(d)}\n`).join('');
  return `${invalid}\n${parts.join(', ')} — ${s.cases.length} cases in ${s.files} files, ${Math.round(s.ms)} ms\n`;
}

/** JSON lines: one `case` object per case, `invalid` per diagnostic, then one `summary`. */
export function caseJson(r: CaseResult): string {
  return `${JSON.stringify({ type: 'case', ...r, ms: Math.round(r.ms * 10) / 10 })}\n`;
}

export function summaryJson(s: SuiteResult, exitCode: number, extra: Record<string, unknown> = {}): string {
  const invalid = s.invalid.map((d) => `${JSON.stringify({ type: 'invalid', ...d })}\n`).join('');
  const count = (st: CaseResult['status']): number => s.cases.filter((x) => x.status === st).length;
  return `${invalid}${JSON.stringify({ type: 'summary', files: s.files, cases: s.cases.length, passed: count('passed'), failed: count('failed'), errors: count('error'), invalid: s.invalid.length, exitCode, ms: Math.round(s.ms), ...extra })}\n`;
}
