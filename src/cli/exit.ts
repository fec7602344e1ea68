// The one place where errors become exit codes and messages. Commands throw; this renders.
import pc from 'picocolors';
import { EXIT, RemedyError, ValidationError, formatDiagnostic } from '../errors.js';

/** Prints an error the way a user should see it (never a stack trace for user errors). */
export function reportError(err: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  if (err instanceof ValidationError) {
    for (const d of err.diagnostics) {
      const line = formatDiagnostic(d);
      stderr.write(`${d.severity === 'error' ? pc.red(line) : pc.yellow(line)}\n`);
    }
    return err.exitCode;
  }
  if (err instanceof RemedyError) {
    stderr.write(`${pc.red('remedy:')} ${err.message}\n`);
    return err.exitCode;
  }
  // A bug, not a user error: say so, with the stack, so it can be reported.
  const e = err instanceof Error ? err : new Error(String(err));
  stderr.write(`${pc.red('remedy: internal error:')} ${e.message}\n${e.stack ?? ''}\n`);
  return EXIT.failed;
}

/** Wraps a command action: sets process.exitCode from the result or the error. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      process.exitCode = code ?? EXIT.ok;
    } catch (err) {
      process.exitCode = reportError(err);
    }
  };
}
