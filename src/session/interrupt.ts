// Ctrl-C and SIGTERM for a session in a terminal or under a supervisor: two abort signals the
// executor understands (stop scheduling, kill running commands). listr2 never sees the signals.
import { setMaxListeners } from 'node:events';

export interface InterruptHandlers {
  /** Aborted by the first Ctrl-C (or SIGTERM): no new work is started. */
  stop: AbortSignal;
  /** Aborted by the second Ctrl-C (or SIGTERM): running commands are killed. */
  kill: AbortSignal;
  dispose(): void;
}

/**
 * Ctrl-C: the first one stops scheduling new work and lets running commands finish; the second
 * kills them (their remote process groups). SIGTERM does both at once.
 */
export function installInterruptHandlers(stderr: NodeJS.WritableStream = process.stderr): InterruptHandlers {
  const stop = new AbortController();
  const kill = new AbortController();
  // Every running command listens to these (one listener per exec): hundreds at once is normal.
  setMaxListeners(0, stop.signal, kill.signal);
  const onInt = (): void => {
    if (!stop.signal.aborted) {
      stop.abort();
      stderr.write('\nremedy: interrupted: no new work is started; running commands finish (Ctrl-C again to kill them)\n');
    } else if (!kill.signal.aborted) {
      kill.abort();
      stderr.write('\nremedy: killing running commands\n');
    }
  };
  const onTerm = (): void => {
    stop.abort();
    kill.abort();
  };
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    stop: stop.signal,
    kill: kill.signal,
    dispose: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}
