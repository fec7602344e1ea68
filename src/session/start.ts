// Starting a run: its directory, inputs.json (what resume needs to rebuild the same plan) and
// plan.json, before anything is contacted. The run itself goes through runSession (run-session.ts).
import type { RunMode } from '../engine/events.js';
import { checkPlanHash } from '../engine/executor.js';
import { writeJsonAtomic } from '../journal/atomic.js';
import { createRunDir, makeRunInputs, writeRunInputs, type RunDir, type RunInputs } from '../journal/run-dir.js';
import { planToJson } from '../plan/index.js';
import { Redactor } from '../redact/redactor.js';
import type { PlannedInputs } from './inputs.js';

export interface NewRunRequest {
  /** The planned runbook (session/inputs.ts). */
  inputs: PlannedInputs;
  /** The runbook as the front end named it (a name or a path). */
  runbook: string;
  /** The inventory file. */
  inventory: string;
  limit?: string | undefined;
  /** The strategy the run starts in: resume continues in it. */
  mode: RunMode;
  /** Run options that shape what the run does, stored so resume behaves the same. */
  options?: Omit<RunInputs['options'], 'mode'> | undefined;
  /** Refuse to start unless the plan has this hash (`--plan-hash`), before anything is created. */
  planHash?: string | undefined;
  /** Where the run directory goes (default runs/<UTC time>-<runbook>/). */
  runDir?: string | undefined;
  /** false: skip the fsyncs (a service that keeps its durable copy elsewhere). */
  durable?: boolean | undefined;
}

export interface NewRun {
  runDir: RunDir;
  inputs: RunInputs;
  /** plan.json's content, secrets redacted. */
  planJson: unknown;
}

/** Creates the run directory with inputs.json and plan.json; refuses a plan other than the approved one. */
export function startRun(req: NewRunRequest): NewRun {
  const { plan } = req.inputs;
  // Before anything is created or contacted.
  checkPlanHash(plan, req.planHash);
  const runDir = createRunDir({ runbook: plan.runbook, runDir: req.runDir });
  const inputs = makeRunInputs({
    runbook: req.runbook,
    runbookFile: req.inputs.loaded.file,
    inventory: req.inventory,
    overrides: req.inputs.overrides,
    secretParams: plan.secretParams,
    limit: req.limit,
    planHash: plan.planHash,
    options: { mode: req.mode, ...req.options },
  });
  const planJson = new Redactor(plan.secrets).redactValue(planToJson(plan));
  const durable = { durable: req.durable !== false };
  writeRunInputs(runDir, inputs, durable);
  writeJsonAtomic(runDir.plan, planJson, durable);
  return { runDir, inputs, planJson };
}
