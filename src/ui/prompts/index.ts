// Guided mode's side of the terminal: the inquirer-backed Prompter, the evidence it shows and the
// text it shows it with.
export { InquirerPrompter, inquirerKit, type InquirerPrompterOptions, type PausableView, type PromptKit, type PromptContext } from './inquirer-prompter.js';
export { EvidenceLog, tailLines, type HostRecord, type StepRecord } from './evidence.js';
export { renderPresentation, renderApproval, renderCause, renderFailure, formatValue, colorDiff, type RenderContext } from './render.js';
