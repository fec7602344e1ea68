// Durations belong to src/duration.ts (below the template layer, which needs them too); the
// runbook's own modules and older imports keep this path.
export { durationMs, isDuration } from '../duration.js';
