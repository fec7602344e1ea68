// remedy plan --probe: the executor runs the read-only diagnosis for real and reports the
// mutations that would follow. Until the executor lands, this refuses clearly.
import type { PlannedInputs } from '../load-inputs.js';
import { RemedyError } from '../../errors.js';

export async function runProbe(_inputs: PlannedInputs, _opts: Record<string, unknown>): Promise<number> {
  throw new RemedyError('remedy plan --probe needs the executor, which is not available in this build');
}
