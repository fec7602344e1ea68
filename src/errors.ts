// Tiny error classes, each mapped to one exit code at the CLI's edge (src/cli/exit.ts).
// Errors carry what the user needs (file:line:col, host, step) and are rendered once.

/** One table for the whole CLI; README and --help print it from here. */
export const EXIT = {
  ok: 0,
  failed: 1,
  escalated: 3,
  unreachable: 4,
  refused: 5,
  usage: 64,
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_TABLE: readonly { code: ExitCode; meaning: string }[] = [
  { code: 0, meaning: 'completed: resolved, or nothing to do' },
  { code: 1, meaning: 'failed: a step failed, or verification did not pass' },
  { code: 3, meaning: 'escalated: handed over to people (the runbook said so, an all-clear was not proven, or hosts were not remediated)' },
  { code: 4, meaning: 'hosts unreachable' },
  { code: 5, meaning: 'refused: a mutating step lacked approval, a plan hash differed, or a host was locked' },
  { code: 64, meaning: 'usage error (a bare `remedy` too, or a --limit refused), or invalid runbook, inventory or parameter' },
  { code: 130, meaning: 'interrupted (SIGINT)' },
];

/** A position in a source file, 1-based. */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

export class RemedyError extends Error {
  readonly exitCode: ExitCode;
  constructor(message: string, exitCode: ExitCode = EXIT.failed) {
    super(message);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Bad CLI arguments or -e values. */
export class UsageError extends RemedyError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** One problem in a file, rendered `file:line:col: message`. */
export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  message: string;
  severity: 'error' | 'warning';
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.severity === 'warning' ? 'warning: ' : ''}${d.message}`;
}

/** Invalid runbook or inventory: carries every diagnostic found, not just the first. */
export class ValidationError extends RemedyError {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[]) {
    super(
      diagnostics
        .filter((d) => d.severity === 'error')
        .map(formatDiagnostic)
        .join('\n'),
      EXIT.usage,
    );
    this.diagnostics = diagnostics;
  }
}

/** A mutating step lacked approval, the plan hash differed, a host was locked. */
export class RefusedError extends RemedyError {
  constructor(message: string) {
    super(message, EXIT.refused);
  }
}

/** A host could not be reached or its key could not be verified. */
export class UnreachableError extends RemedyError {
  readonly host: string;
  constructor(host: string, message: string) {
    super(`${host}: ${message}`, EXIT.unreachable);
    this.host = host;
  }
}

export class InterruptedError extends RemedyError {
  constructor(message = 'interrupted') {
    super(message, EXIT.interrupted);
  }
}
