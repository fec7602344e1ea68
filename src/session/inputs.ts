// A session's inputs: runbook + inventory + params + --limit → Plan. Every front end plans the
// same way (the CLI's plan, run, guide, graph; the service's intake and console).
import { formatDiagnostic, type Diagnostic } from '../errors.js';
import { loadInventory, parseInventory } from '../inventory/index.js';
import type { Inventory } from '../inventory/types.js';
import { planRunbook } from '../plan/index.js';
import { checkLimit } from '../plan/limit-check.js';
import type { Plan } from '../plan/types.js';
import { loadRunbook, parseExtraVars, type LoadedRunbook } from '../runbook/index.js';

export interface PlanningOptions {
  /** Absent: plan against an empty inventory (`remedy graph` draws the runbook, not a fleet). */
  inventory?: string | undefined;
  extraVars?: string[] | undefined;
  limit?: string | undefined;
  /** --decide-without-excluded-hosts: a limit may leave out a group a decide step reads. */
  decideWithoutExcludedHosts?: boolean | undefined;
}

export interface PlannedInputs {
  loaded: LoadedRunbook;
  inventory: Inventory;
  overrides: Record<string, string>;
  plan: Plan;
  warnings: Diagnostic[];
}

/**
 * Loads runbook and inventory and plans with `-e` arguments; runbook warnings go to stderr
 * (every command that plans shows them the same way).
 */
export function planFromFiles(runbookRef: string, options: PlanningOptions): PlannedInputs {
  const inputs = planWithOverrides(runbookRef, { inventory: options.inventory, overrides: parseExtraVars(options.extraVars ?? []), limit: options.limit });
  // A new run (not a resume) refuses a limit that matches nothing or blinds a decision.
  for (const w of checkLimit(inputs.plan, inputs.inventory, { limit: options.limit, allowExcludedEvidence: options.decideWithoutExcludedHosts })) {
    process.stderr.write(`remedy: warning: ${w}\n`);
  }
  return inputs;
}

/** The same from already parsed overrides (resume rebuilds a run's plan from inputs.json). */
export function planWithOverrides(
  runbookRef: string,
  options: { inventory?: string | undefined; overrides: Record<string, string>; limit?: string | undefined },
): PlannedInputs {
  const { loaded, warnings } = loadRunbook(runbookRef);
  for (const w of warnings) process.stderr.write(`${formatDiagnostic(w)}\n`);
  const inventory = options.inventory === undefined ? parseInventory('all: {}\n', '(no inventory)', { format: 'yaml' }) : loadInventory(options.inventory);
  const plan = planRunbook({ loaded, inventory, overrides: options.overrides, limit: options.limit });
  return { loaded, inventory, overrides: options.overrides, plan, warnings };
}
