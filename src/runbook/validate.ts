// `remedy validate`: runbooks (and the inventories among the files given) checked together,
// every problem reported with file:line:col, nothing thrown.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseDocument, isMap, isScalar } from 'yaml';
import { RemedyError, ValidationError, type Diagnostic } from '../errors.js';
import { loadInventory, type Inventory } from '../inventory/index.js';
import { orderDiagnostics } from './diagnostics.js';
import { displayPath, Loader, type LoadedRunbook } from './load.js';
import { expandRunbookPaths, isVarsFile } from './resolve.js';
import { checkYamlLimits, MAX_RUNBOOK_BYTES } from './source.js';

export interface CheckedFile {
  /** As displayed in diagnostics. */
  file: string;
  kind: 'runbook' | 'vars' | 'inventory';
}

export interface ValidationReport {
  files: CheckedFile[];
  diagnostics: Diagnostic[];
  /** Each runbook the loader could load, by its displayed file: for checks that plan it (validate's flow check). */
  runbooks: Map<string, LoadedRunbook>;
}

/**
 * An Ansible inventory rather than a runbook: INI (any non-YAML name), or a YAML map with an
 * `all` group and no `steps`.
 */
function isInventory(file: string): boolean {
  if (!/\.(ya?ml|json)$/i.test(file)) return true;
  let text: string;
  try {
    // Too big or too deep to parse: the runbook loader reports why.
    if (statSync(file).size > MAX_RUNBOOK_BYTES) return false;
    text = readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  if (checkYamlLimits(text)) return false;
  const doc = parseDocument(text);
  if (!isMap(doc.contents)) return false;
  const keys = doc.contents.items.map((p) => (isScalar(p.key) ? String(p.key.value) : ''));
  return keys.includes('all') && !keys.includes('steps');
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function checkInventory(file: string): Diagnostic[] {
  try {
    loadInventory(displayPath(file));
    return [];
  } catch (err) {
    if (err instanceof ValidationError) return err.diagnostics;
    if (err instanceof RemedyError) return [{ file: displayPath(file), line: 1, col: 1, message: err.message, severity: 'error' }];
    throw err;
  }
}

/** Every diagnostic of every file (directories expanded to their .yaml files), and what was checked. */
export function validatePaths(
  paths: readonly string[],
  options: { inventory?: Inventory | undefined; searchDirs?: string[] | undefined } = {},
): ValidationReport {
  const loader = new Loader(options);
  const files: CheckedFile[] = [];
  const diagnostics: Diagnostic[] = [];
  const runbooks = new Map<string, LoadedRunbook>();
  for (const p of paths) {
    // A directory that holds no runbook was most likely a typo: nothing checked is not "valid".
    if (isDirectory(p) && expandRunbookPaths([p]).length === 0) {
      diagnostics.push({
        file: displayPath(path.resolve(p)),
        line: 1,
        col: 1,
        message: 'no runbook here: the directory holds no .yaml or .yml file',
        severity: 'error',
      });
    }
  }
  for (const f of expandRunbookPaths(paths).map((p) => path.resolve(p))) {
    if (isVarsFile(f)) {
      files.push({ file: displayPath(f), kind: 'vars' });
      loader.loadVars(f);
    } else if (isInventory(f)) {
      files.push({ file: displayPath(f), kind: 'inventory' });
      for (const d of checkInventory(f)) diagnostics.push(d);
    } else {
      files.push({ file: displayPath(f), kind: 'runbook' });
      const loaded = loader.load(f, []);
      if (loaded) runbooks.set(displayPath(f), loaded);
    }
  }
  return { files, runbooks, diagnostics: orderDiagnostics([...diagnostics, ...loader.diagnostics], [...files.map((f) => f.file), ...loader.files]) };
}

/** For `remedy validate`: all diagnostics (errors and warnings) of several files, optionally checking host patterns against an inventory. */
export function validateFiles(files: string[], options: { inventory?: Inventory; searchDirs?: string[] } = {}): Diagnostic[] {
  return validatePaths(files, options).diagnostics;
}
