// A controller killed between `run-end` and the last result file leaves a journal that says how
// the run ended and a run directory without result.json or report.md. Both are pure functions
// of the journal (which is already redacted), so they can be written again at any later time.
import { existsSync } from 'node:fs';
import type { RunEvent } from '../engine/events.js';
import { writeReport } from './report.js';
import { buildResult, writeResult } from './result.js';
import { RUN_FILES, runDirPaths } from './run-dir.js';

type Ev<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;

/** The run-end of the journal's latest segment, if that segment ended. */
export function latestRunEnd(events: readonly RunEvent[]): Ev<'run-end'> | null {
  let lastStart = -1;
  events.forEach((ev, i) => {
    if (ev.type === 'run-start') lastStart = i;
  });
  if (lastStart < 0) return null;
  return events.slice(lastStart).find((ev): ev is Ev<'run-end'> => ev.type === 'run-end') ?? null;
}

/**
 * Writes result.json and report.md from the journal when they are missing; returns the names of
 * the files written (none when both were there, or the journal has no run-start).
 */
export function rebuildMissingResultFiles(dir: string, events: readonly RunEvent[]): string[] {
  if (!events.some((ev) => ev.type === 'run-start')) return [];
  const paths = runDirPaths(dir);
  const written: string[] = [];
  if (!existsSync(paths.result)) {
    writeResult(paths.path, buildResult(events));
    written.push(RUN_FILES.result);
  }
  if (!existsSync(paths.report)) {
    writeReport(paths.path);
    written.push(RUN_FILES.report);
  }
  return written;
}
