// Console views over the executor's events.
export { createConsoleSink, type ConsoleSink, type ConsoleSinkOptions, type ConsoleOutput } from './console.js';
export { PlainSink, formatPlainLine, type PlainSinkOptions } from './plain.js';
export { JsonlSink } from './jsonl.js';
export { ListrView, type ListrViewOptions } from './listr-view.js';
export { RecapCounter, computeRecap, renderRecap, type Recap, type HostRecap } from './recap.js';
export { formatDuration, formatBytes, colorEnabled } from './format.js';
