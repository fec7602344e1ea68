// The executor's event stream. The journal, the listr2 view, plain lines and --output jsonl are
// all sinks of it; none of them holds logic. Every event is JSON-serialisable and already redacted
// when it reaches a sink.

export type HostStatus = 'ok' | 'changed' | 'failed' | 'timed-out' | 'unreachable' | 'skipped';
export type RunMode = 'unattended' | 'guided' | 'probe';
export type RunOutcome = 'resolved' | 'nothing-to-do' | 'escalated' | 'failed' | 'refused' | 'interrupted' | 'unreachable';
export type ApprovalDecision = 'approved' | 'skipped' | 'refused' | 'aborted' | 'timed-out';
export type ApprovalSource = 'flag' | 'operator' | 'policy' | 'resume';

interface Base {
  /** ISO-8601 UTC. */
  time: string;
  /** Monotonic sequence number within the run, from 1. */
  seq: number;
}

/** What a --limit kept and left out (run-start, result.json). */
export interface RunScope {
  limit: string;
  /** Hosts the run covers. */
  hosts: string[];
  /** Hosts the runbook targets that the limit left out: nothing the run says covers them. */
  excluded: string[];
}

/** The sentence that says a verdict is scoped (appended to the run's message, shown in reports). */
export function scopeSentence(scope: RunScope): string {
  return `This verdict covers only --limit '${scope.limit}' (${scope.hosts.join(', ')}); not looked at: ${scope.excluded.join(', ')}.`;
}

export type RunEvent = Base &
  (
    | {
        type: 'run-start';
        runId: string;
        runbook: string;
        planHash: string;
        mode: RunMode;
        operator: string;
        user: string;
        controller: string;
        params: Record<string, unknown>;
        hosts: string[];
        runDir: string;
        /**
         * On a resumed run (same runId, appended to the same journal): the start time of the
         * run-start it continues.
         */
        resumedFrom?: string | undefined;
        /**
         * Set when --limit left out hosts the runbook targets: the run's verdict covers only `hosts`;
         * `excluded` were not looked at.
         */
        scope?: RunScope | undefined;
      }
    | {
        type: 'step-start';
        step: string;
        name: string;
        kind: string;
        mutates: boolean;
        hosts: string[];
        /** With `serial`, one step-start per rolling batch (1-based) and one step-end for the step. */
        batch?: number | undefined;
        batches?: number | undefined;
        /** Set on rollback steps: the step whose failure they undo. */
        rollbackOf?: string | undefined;
      }
    | { type: 'step-skip'; step: string; reason: string }
    | {
        type: 'host-start';
        step: string;
        host: string;
        attempt: number;
        iteration?: number | undefined;
        /** The command as sent, redacted. */
        command?: string | undefined;
        /** 'verify': the step's `verify:` check after a mutating step (absent: the step itself). */
        phase?: 'verify' | undefined;
      }
    | {
        /**
         * One line of live output, for views. Throttled per command (the full output is in the
         * files named by host-end `outputs`), so a journal may skip these.
         */
        type: 'host-output';
        step: string;
        host: string;
        stream: 'stdout' | 'stderr';
        line: string;
      }
    | {
        type: 'host-end';
        step: string;
        host: string;
        status: HostStatus;
        attempt: number;
        iteration?: number | undefined;
        exitCode: number | null;
        signal: string | null;
        durationMs: number;
        facts?: Record<string, unknown> | undefined;
        /** Captures left unset because the command failed (a failed command gives no facts). */
        unsetFacts?: string[] | undefined;
        /** Paths relative to the run dir of full outputs and artifacts. */
        outputs?: { stdout: string; stderr: string } | undefined;
        artifacts?: { path: string; bytes: number; sha256: string }[] | undefined;
        diff?: string | undefined;
        /** Lines of the output the runbook marks as evidence (`evidence:`), at most its max_lines. */
        evidence?: HostEvidence | undefined;
        error?: string | undefined;
        phase?: 'verify' | undefined;
        /** Why a host was skipped (`when` false, not approved, unreachable earlier, …). */
        reason?: string | undefined;
        /**
         * True on the last host-end of this step for this host (after retries, repeats and
         * verification): the host is done with the step. Resume treats a host whose last host-end
         * is not final as started-but-unfinished.
         */
        final?: boolean | undefined;
      }
    | {
        type: 'step-end';
        step: string;
        status: 'ok' | 'failed' | 'skipped' | 'partial';
        durationMs: number;
        counts: Record<HostStatus, number>;
        /** The step the executor goes to next (a goto target, or the following step); null: the run ends. */
        next?: string | null | undefined;
        /** Hosts that leave the run at this step (not run by later steps), and why. */
        left?: Record<string, 'failed' | 'unreachable'> | undefined;
        /** Hosts whose failure at this step counts against the run's outcome. */
        failedHosts?: string[] | undefined;
        /**
         * Hosts where the step failed and the run went on (on_failure: continue, or the operator
         * skipped the failure): they stay in the run but are `failed`, never healthy evidence.
         */
        tolerated?: string[] | undefined;
      }
    | {
        type: 'decision';
        step: string;
        cause: string;
        /** The condition that matched, and the facts it read, per host. */
        evidence: { condition: string | null; facts: Record<string, Record<string, unknown>> };
        candidates: string[];
        override?: { from: string; operator: string } | undefined;
        /** The operator who answered the cause prompt (accepted or overrode); absent when nobody was asked. */
        confirmedBy?: string | undefined;
      }
    | {
        type: 'approval';
        step: string;
        decision: ApprovalDecision;
        source: ApprovalSource;
        operator: string;
        hosts: string[];
        planHash: string;
        /** 1-based rolling batch, when the step has `serial`. */
        batch?: number | undefined;
        /** The operator's reason, when they gave one (a denial from the console always has one). */
        comment?: string | undefined;
        /** What the step would do on those hosts (redacted): recorded with refusals too. */
        commands?: { host: string; command: string }[] | undefined;
        /** Properties diffs per host, computed from the real files (redacted). */
        diffs?: Record<string, string> | undefined;
      }
    | { type: 'rollback'; step: string; host: string; reason: string }
    | { type: 'lock'; host: string; action: 'acquired' | 'released' | 'refused' | 'broken'; detail?: string | undefined }
    | { type: 'outcome'; step: string; status: 'resolved' | 'escalate' | 'nothing-to-do'; message: string }
    | {
        type: 'bundle';
        step: string;
        /** Relative to the run directory. */
        path: string;
        bytes: number;
        sha256: string;
        /** How many files it holds (manifest and SHA256SUMS not counted). */
        files: number;
      }
    | { type: 'warning'; message: string; step?: string | undefined; host?: string | undefined }
    | {
        type: 'run-end';
        outcome: RunOutcome;
        cause: string | null;
        exitCode: number;
        durationMs: number;
        message?: string | undefined;
        /** Final status per targeted host, for result.json. */
        hosts?: Record<string, FinalHostStatus> | undefined;
      }
  );

export type RunEventType = RunEvent['type'];

/** Evidence lines of one host's output, cut to the runbook's max_lines. */
export interface HostEvidence {
  title: string;
  lines: string[];
  /** Matching lines left out (the full output is at `output`). */
  omitted: number;
  /** The full output, relative to the run directory. */
  output?: string | undefined;
}

/**
 * A host's status at the end of a run (result.json, recap, reports), worst first:
 * - `unreachable`: the host could not be reached (or was lost) during the run;
 * - `failed`: a step failed on it (counted against the run, or tolerated by on_failure: continue
 *   or the operator: what that step would have shown was not seen);
 * - `not-remediated`: a fix it needed did not run on it (declined, not approved, refused): it
 *   may still be broken, so it is never `ok`;
 * - `ok`: every step that ran on it succeeded and it got every fix it needed;
 * - `skipped`: no command ran on it.
 */
export const FINAL_HOST_STATUSES = ['unreachable', 'failed', 'not-remediated', 'ok', 'skipped'] as const;
export type FinalHostStatus = (typeof FINAL_HOST_STATUSES)[number];

/** Something that consumes events: the journal, a console view, a JSON-lines stream. */
export interface EventSink {
  write(event: RunEvent): void;
  /** Flush and release; called once at the end of the run (also on interrupt). */
  close(): Promise<void>;
}
