// The command that applies exactly the plan just shown: `remedy plan` and `--probe` end with it,
// complete and quoted for a POSIX shell, so the operator copies one line instead of rebuilding it.
import { shellJoin, shellQuote } from '../shell/quote.js';

export interface NextCommandInputs {
  runbook: string;
  inventory: string;
  limit?: string | undefined;
  /** Given with the plan: the run needs it too, or its limit is refused. */
  decideWithoutExcludedHosts?: boolean | undefined;
  extraVars?: readonly string[] | undefined;
  /** Params marked secret: their values are never printed; the command reads them from the environment. */
  secretParams?: readonly string[] | undefined;
  planHash: string;
}

/** `remedy run RUNBOOK -i INV [-l P] [-e k=v]… --yes --plan-hash H` as one shell line. */
export function applyCommand(inputs: NextCommandInputs): string {
  const secret = new Set(inputs.secretParams ?? []);
  const words = [shellJoin(['remedy', 'run', inputs.runbook, '-i', inputs.inventory])];
  if (inputs.limit !== undefined) words.push(`-l ${shellQuote(inputs.limit)}`);
  if (inputs.decideWithoutExcludedHosts === true) words.push('--decide-without-excluded-hosts');
  for (const ev of inputs.extraVars ?? []) {
    const name = ev.startsWith('@') ? null : ev.slice(0, Math.max(0, ev.indexOf('=')));
    // A secret stays out of the terminal's scrollback: the line expands it from a variable.
    if (name && secret.has(name)) words.push(`-e "${name}=$${envName(name)}"`);
    else words.push(`-e ${shellQuote(ev)}`);
  }
  words.push('--yes', `--plan-hash ${shellQuote(inputs.planHash)}`);
  return words.join(' ');
}

function envName(param: string): string {
  return param.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}
