// Command-line pieces shared by the commands that plan (plan, run, guide, graph); the planning
// itself is the session library's (src/session/inputs.ts).
import { PARTIAL_EVIDENCE_FLAG } from '../plan/limit-check.js';

/** The --limit companion option, on every command that plans a new run. */
export const DECIDE_WITHOUT_EXCLUDED_HELP: [string, string] = [
  PARTIAL_EVIDENCE_FLAG,
  'let decide steps run although --limit leaves out every host of a group they read (a cause only those hosts show is then missed); without it such a limit is refused (exit 64)',
];

/** Commander collector for repeatable options such as -e. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
