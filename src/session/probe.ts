// A probe session (`remedy plan --probe`): the read-only diagnosis run for real over the session's
// transports, with Ctrl-C handled; the front end renders the result.
import { NoticeRelay } from '../engine/emitter.js';
import type { EventSink } from '../engine/events.js';
import { probe, type ProbeResult } from '../engine/probe.js';
import type { Inventory } from '../inventory/types.js';
import type { Plan } from '../plan/types.js';
import { installInterruptHandlers } from './interrupt.js';
import { osUser, type SessionOptions } from './options.js';
import { createTransportPool } from './transports.js';

export interface ProbeSessionOptions extends Pick<
  SessionOptions,
  'knownHosts' | 'acceptNewHostKeys' | 'serverAliveInterval' | 'serverAliveCountMax' | 'forks'
> {
  /** Keep outputs here; absent: nothing on disk. */
  runDir?: string | undefined;
  /** Progress views. */
  sinks?: EventSink[] | undefined;
}

export async function probeSession(inputs: { plan: Plan; inventory: Inventory }, options: ProbeSessionOptions): Promise<ProbeResult> {
  const notices = new NoticeRelay();
  const pool = createTransportPool(options, inputs.inventory, notices);
  const sinks = options.sinks ?? [];
  const interrupt = installInterruptHandlers();
  try {
    return await probe(inputs.plan, {
      inventory: inputs.inventory,
      transports: pool,
      sinks,
      operator: osUser(),
      forks: options.forks,
      runDir: options.runDir ?? null,
      signal: interrupt.stop,
      killSignal: interrupt.kill,
      notices,
    });
  } finally {
    await pool.closeAll();
    interrupt.dispose();
    for (const sink of sinks) await sink.close().catch(() => undefined);
  }
}
