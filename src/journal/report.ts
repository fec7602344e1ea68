// `remedy report DIR`: a readable account of a run, from its journal (the record of truth, so a
// report works on a run whose controller was killed before result.json), plus plan.json when
// present. report.md is also written at the end of every run (writeReport).
import { readFileSync } from 'node:fs';
import type { Redactor } from '../redact/redactor.js';
import { writeFileAtomic } from './atomic.js';
import { readJournal } from './journal.js';
import { renderReportHtml } from './report-html.js';
import { renderReportMarkdown } from './report-markdown.js';
import { buildReportModel, type PlanSummaryForReport, type ReportModel } from './report-model.js';
import { openRunDir, runDirPaths } from './run-dir.js';

export const REPORT_FORMATS = ['markdown', 'html', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportOptions {
  /** A second line of defence: the journal is already redacted, but a run's writer may pass its secrets. */
  redactor?: Redactor | undefined;
}

/** Reads a run directory into the report model. */
export function loadReport(dir: string): ReportModel {
  const paths = openRunDir(dir);
  const journal = readJournal(paths.path);
  return buildReportModel(journal.events, { plan: readPlanSummary(paths.plan), runDir: paths.path, journalProblems: journal.problems });
}

export function renderReport(model: ReportModel, format: ReportFormat, options: ReportOptions = {}): string {
  // Redact the values before rendering: once escaped for HTML, a secret with `<` or `&` in it
  // would no longer match.
  if (options.redactor) model = options.redactor.redactValue(model);
  let text: string;
  switch (format) {
    case 'html':
      text = renderReportHtml(model);
      break;
    case 'json':
      text = `${JSON.stringify(model, null, 2)}\n`;
      break;
    default:
      text = renderReportMarkdown(model);
  }
  return options.redactor ? options.redactor.redact(text) : text;
}

/** Writes DIR/report.md (atomically) from the run's journal; returns its path. */
export function writeReport(dir: string, options: ReportOptions = {}): string {
  const path = runDirPaths(dir).report;
  writeFileAtomic(path, renderReport(loadReport(dir), 'markdown', options), 0o644);
  return path;
}

function readPlanSummary(path: string): PlanSummaryForReport | null {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null; // no plan.json (or unreadable): the report still stands on the journal
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const o = raw as Record<string, unknown>;
  const steps = Array.isArray(o.steps)
    ? o.steps.filter((s): s is { id: string } => typeof s === 'object' && s !== null && typeof (s as { id?: unknown }).id === 'string')
    : undefined;
  return {
    summary: typeof o.summary === 'string' ? o.summary : undefined,
    params: typeof o.params === 'object' && o.params !== null ? (o.params as Record<string, unknown>) : undefined,
    steps: steps as PlanSummaryForReport['steps'],
    causes: Array.isArray(o.causes) ? o.causes.filter((c): c is string => typeof c === 'string') : undefined,
  };
}
