// The runbook language: loading with source positions, includes, validation, params.
export { loadRunbook, displayPath } from './load.js';
export type { LoadedRunbook, LoadOptions } from './load.js';
export { validateFiles, validatePaths } from './validate.js';
export type { ValidationReport, CheckedFile } from './validate.js';
export { resolveRunbookRef, expandRunbookPaths, isVarsFile, defaultSearchDirs, PACKAGE_RUNBOOKS } from './resolve.js';
export { resolveParams, parseExtraVars, coerceParam } from './params.js';
export type { ParamValue } from './params.js';
export { durationMs, isDuration } from './duration.js';
export { stepTemplateFields, stepExpressionFields, walkSteps, CONTROLLER_KINDS } from './fields.js';
export type { TemplateField, TemplateContext, ExpressionField, StepEntry } from './fields.js';
