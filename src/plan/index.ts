export { planRunbook, type PlanInput } from './planner.js';
export { batchHosts } from './controls.js';
export { planToJson, type PlanJson, type PlanStepJson } from './json.js';
export { planHash, canonicalJson } from './hash.js';
export { renderPlanText } from './render-text.js';
export { renderPlanMarkdown } from './render-markdown.js';
export { renderPlanMermaid } from './render-mermaid.js';
export { renderHostCommand, renderHostText, hostScope, becomeUser, type HostRuntime } from './render-host.js';
export type { Plan, PlanStep, PlannedCommand, StepTemplates, OnFailurePolicy } from './types.js';
