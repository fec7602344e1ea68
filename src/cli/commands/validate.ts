// remedy validate: every problem of every runbook (and inventory) given, as file:line:col lines,
// exit 64 when any is an error. Never a stack trace: these are the user's files, not our bugs.
import { type Command, Option } from 'commander';
import pc from 'picocolors';
import { EXIT, formatDiagnostic, type Diagnostic } from '../../errors.js';
import { loadInventory, parseInventory } from '../../inventory/index.js';
import type { Inventory } from '../../inventory/types.js';
import { flowDiagnostics } from '../../plan/index.js';
import { displayPath, validatePaths, type CheckedFile, type LoadedRunbook, type ValidationReport } from '../../runbook/index.js';
import { action } from '../exit.js';

const FORMATS = ['text', 'json'] as const;
type Format = (typeof FORMATS)[number];

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function countFiles(files: readonly CheckedFile[]): string {
  const runbooks = files.filter((f) => f.kind === 'runbook').length;
  const varsFiles = files.filter((f) => f.kind === 'vars').length;
  const inventories = files.length - runbooks - varsFiles;
  const parts = [];
  if (runbooks > 0 || inventories + varsFiles === 0) parts.push(plural(runbooks, 'runbook'));
  if (varsFiles > 0) parts.push(plural(varsFiles, 'vars file'));
  if (inventories > 0) parts.push(inventories === 1 ? '1 inventory' : `${inventories} inventories`);
  return parts.join(' and ');
}

/** `3 runbooks valid, 2 warnings` or `1 of 3 runbooks invalid: 4 errors, 1 warning`. */
export function summaryLine(files: readonly CheckedFile[], diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const warnings = diagnostics.length - errors.length;
  const warned = `${plural(warnings, 'warning')}`;
  if (files.length === 0) return `no runbook checked: ${plural(errors.length, 'error')}, ${warned}`;
  if (errors.length === 0) return `${countFiles(files)} valid, ${warned}`;
  const bad = new Set(errors.map((d) => d.file));
  return `${bad.size} of ${countFiles(files)} invalid: ${plural(errors.length, 'error')}, ${warned}`;
}

/**
 * The step graph's warnings (plan/flow-check.ts) for each runbook that has no error: planned as
 * `remedy graph` plans it, against the inventory given or none.
 */
/** A runbook's file and its includes' files, absolute. */
function filesOf(loaded: LoadedRunbook): string[] {
  return [loaded.file, ...[...loaded.includes.values()].flatMap(filesOf)];
}

function flowWarnings({ files, runbooks, diagnostics }: ValidationReport, inventory: Inventory | undefined): Diagnostic[] {
  const fleet = inventory ?? parseInventory('all: {}\n', '(no inventory)', { format: 'yaml' });
  const broken = new Set(diagnostics.filter((d) => d.severity === 'error').map((d) => d.file));
  const out: Diagnostic[] = [];
  for (const f of files) {
    // Planned from what validatePaths loaded: a runbook with an error (its own or an include's) is not planned.
    const loaded = runbooks.get(f.file);
    if (f.kind === 'runbook' && loaded !== undefined && !filesOf(loaded).some((file) => broken.has(displayPath(file))))
      out.push(...flowDiagnostics(loaded, fleet));
  }
  // A decide step in a shared include is warned about once.
  return out.filter((d, i) => out.findIndex((o) => o.file === d.file && o.line === d.line && o.message === d.message) === i);
}

export function register(program: Command): void {
  program
    .command('validate')
    .description(
      'Check runbooks (and inventories): YAML syntax, schema, references to params/vars/facts, conditions, host patterns, includes. Prints file:line:col: message; exit 64 on any error.',
    )
    .argument('<files...>', 'runbook files, or directories (every .yaml under them)')
    .option('-i, --inventory <file>', 'also check host patterns (and inventory vars) against this inventory')
    .addOption(new Option('-f, --format <format>', 'output format').choices(FORMATS).default('text'))
    .addHelpText('after', '\nExamples:\n  remedy validate runbooks/\n  remedy validate runbooks/apigee/apigee-502-bad-gateway.yaml -i inventory/example.yaml\n')
    .action(
      action(async (paths: string[], opts: { inventory?: string; format: Format }) => {
        const inventory = opts.inventory ? loadInventory(opts.inventory) : undefined;
        const report = validatePaths(paths, { inventory });
        const { files, diagnostics } = report;
        diagnostics.push(...flowWarnings(report, inventory));
        const errors = diagnostics.filter((d) => d.severity === 'error').length;
        if (opts.format === 'json') {
          const out = { valid: errors === 0, files, errors, warnings: diagnostics.length - errors, diagnostics };
          process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        } else {
          for (const d of diagnostics) {
            const line = formatDiagnostic(d);
            process.stdout.write(`${d.severity === 'error' ? pc.red(line) : pc.yellow(line)}\n`);
          }
          process.stdout.write(`${summaryLine(files, diagnostics)}\n`);
        }
        return errors > 0 ? EXIT.usage : EXIT.ok;
      }),
    );
}
