// The run's record: directory layout, journal, result, reports.
export {
  RUN_FILES,
  DEFAULT_RUNS_DIR,
  createRunDir,
  openRunDir,
  runDirPaths,
  outputPaths,
  outputLabel,
  artifactDir,
  fileSafeName,
  runTimestamp,
  makeRunInputs,
  writeRunInputs,
  readRunInputs,
  remedyVersion,
  type RunDir,
  type CreateRunDirOptions,
  type RunInputs,
  type RunInputsSource,
} from './run-dir.js';
export { writeFileAtomic, writeJsonAtomic } from './atomic.js';
export { RedactingOutputWriter } from '../engine/output-writer.js';
export { JournalSink, readJournal, parseJournal, type JournalRead, type JournalProblem, type JournalOptions, type JournalDurability } from './journal.js';
export { RunRecordSink, type RunRecordOptions } from './record.js';
export {
  summarizeJournal,
  JournalSummarizer,
  type JournalSummary,
  type StepSummary,
  type HostStepSummary,
  type StepSummaryStatus,
} from '../engine/journal-fold.js';
export {
  buildResult,
  writeResult,
  ResultBuilder,
  ResultSink,
  type RunResultJson,
  type ResultStep,
  type ResultHostStep,
  type ResultDecision,
  type ResultArtifact,
} from './result.js';
export { REPORT_FORMATS, loadReport, renderReport, writeReport, type ReportFormat, type ReportOptions } from './report.js';
export { buildReportModel, type ReportModel } from './report-model.js';
