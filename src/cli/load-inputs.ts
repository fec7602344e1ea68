// Shared by plan, run and guide: runbook + inventory + -e + --limit → Plan.
import { loadInventory } from '../inventory/index.js';
import { planRunbook } from '../plan/index.js';
import type { Plan } from '../plan/types.js';
import type { Inventory } from '../inventory/types.js';
import { loadRunbook, parseExtraVars, type LoadedRunbook } from '../runbook/index.js';
import type { Diagnostic } from '../errors.js';

export interface PlanningOptions {
  inventory: string;
  extraVars?: string[] | undefined;
  limit?: string | undefined;
}

export interface PlannedInputs {
  loaded: LoadedRunbook;
  inventory: Inventory;
  overrides: Record<string, string>;
  plan: Plan;
  warnings: Diagnostic[];
}

export function planFromFiles(runbookRef: string, options: PlanningOptions): PlannedInputs {
  const { loaded, warnings } = loadRunbook(runbookRef);
  const inventory = loadInventory(options.inventory);
  const overrides = parseExtraVars(options.extraVars ?? []);
  const plan = planRunbook({ loaded, inventory, overrides, limit: options.limit });
  return { loaded, inventory, overrides, plan, warnings };
}

/** Commander collector for repeatable options such as -e. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
