// The engine's public surface: the CLI (run, resume, guide, plan --probe) needs nothing else.
export { executePlan, checkPlanHash, DEFAULT_FORKS, OUTCOME_EXIT, type ExecuteOptions, type RunResult } from './executor.js';
export { probe, type ProbeOptions, type ProbeResult } from './probe.js';
export type { ProbeStepPreview } from './preview.js';
export { resumePointFromEvents, type ResumePoint, type ResumeOptions } from './resume-point.js';
export {
  UnattendedStrategy,
  ProbeStrategy,
  type Strategy,
  type ApprovalRequest,
  type ApprovalAnswer,
  type FailureRequest,
  type FailureAnswer,
  type FailureAction,
  type HostOutcome,
  type CauseAnswer,
  type CauseRequest,
} from './strategy.js';
export { GuidedStrategy, type Prompter } from './guided.js';
export type { TransportSource } from './context.js';
export { MemorySink, NoticeRelay } from './emitter.js';
export { systemClock, type Clock } from './timing.js';
export type * from './events.js';
