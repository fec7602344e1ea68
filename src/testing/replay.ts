// Real runs as regression tests. A run directory holds what every command printed (outputs/),
// how it ended (journal host-end events) and what the run decided (run-end, decision). From it
// we build one test case: the outputs become scripted replies, the decisions and outcome become
// assertions. `--record` writes that case to a file; `--from-run` replays it against the runbook
// as it is now and lists every decision that changed.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify } from 'yaml';
import type { RunEvent } from '../engine/events.js';
import { UsageError } from '../errors.js';
import { readJournal } from '../journal/journal.js';
import { openRunDir, readRunInputs } from '../journal/run-dir.js';
import { parseTestFile } from './load.js';
import { observe } from './run-case.js';
import type { Reply, ReplyBody, TestFile } from './schema.js';
import { runFileCases, type SuiteResult } from './suite.js';

const SCHEMA_FILE = fileURLToPath(new URL('../../schema/runbook-test.schema.json', import.meta.url));

function readOutput(runDir: string, rel: string | undefined): string | undefined {
  if (rel === undefined || rel === '') return undefined;
  const p = join(runDir, rel);
  if (!existsSync(p)) return undefined;
  const text = readFileSync(p, 'utf8');
  return text === '' ? undefined : text;
}

type HostEnd = Extract<RunEvent, { type: 'host-end' }>;

function replyOf(runDir: string, e: HostEnd): ReplyBody {
  const r: ReplyBody = {};
  if (e.status === 'unreachable') return { unreachable: true };
  const stdout = readOutput(runDir, e.outputs?.stdout);
  const stderr = readOutput(runDir, e.outputs?.stderr);
  if (stdout !== undefined) r.stdout = stdout;
  if (stderr !== undefined) r.stderr = stderr;
  if (e.status === 'timed-out') r.timeout = true;
  else if (e.exitCode !== null && e.exitCode !== 0) r.exit_code = e.exitCode;
  return r;
}

/** Scripted replies from the journal: per step and host, one reply per command, verify checks attached to the run they followed. */
export function repliesFromRun(runDir: string, events: RunEvent[]): Record<string, Record<string, Reply | Reply[]>> {
  const byStep = new Map<string, Map<string, Reply[]>>();
  for (const e of events) {
    if (e.type !== 'host-end' || e.attempt < 1) continue;
    const hosts = byStep.get(e.step) ?? new Map<string, Reply[]>();
    byStep.set(e.step, hosts);
    const replies = hosts.get(e.host) ?? [];
    hosts.set(e.host, replies);
    const reply = replyOf(runDir, e);
    if (e.phase === 'verify') {
      const last = replies[replies.length - 1] ?? (replies.push({}), replies[0] as Reply);
      const verify = last.verify === undefined ? [] : Array.isArray(last.verify) ? last.verify : [last.verify];
      verify.push(reply);
      last.verify = verify.length === 1 ? verify[0] : verify;
    } else {
      replies.push(reply);
    }
  }
  const out: Record<string, Record<string, Reply | Reply[]>> = {};
  for (const [step, hosts] of byStep) {
    out[step] = {};
    for (const [host, replies] of hosts) (out[step] as Record<string, Reply | Reply[]>)[host] = replies.length === 1 ? (replies[0] as Reply) : replies;
  }
  return out;
}

export interface RecordedRun {
  data: TestFile;
  runDir: string;
}

/** The test file a run directory stands for; paths are written relative to `outFile`. */
export function caseFromRun(dir: string, outFile: string): RecordedRun {
  const paths = openRunDir(dir);
  const inputs = readRunInputs(paths);
  const { events } = readJournal(paths.path);
  const end = [...events].reverse().find((e): e is Extract<RunEvent, { type: 'run-end' }> => e.type === 'run-end');
  if (!end) throw new UsageError(`${dir}: the run has no run-end event (it did not finish); resume it first or record a finished run`);
  if (inputs.withheldParams.length > 0)
    throw new UsageError(`${dir}: secret params (${inputs.withheldParams.join(', ')}) were not recorded; a replay cannot rebuild the plan`);
  const outDir = dirname(resolve(outFile));
  // A YAML inventory goes inline, so the case outlives the lab or host list it came from.
  let inventory: string | Record<string, unknown> = relative(outDir, inputs.inventory);
  if (/\.(ya?ml|json)$/i.test(inputs.inventory) && existsSync(inputs.inventory)) {
    const parsed = parseYaml(readFileSync(inputs.inventory, 'utf8')) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) inventory = parsed as Record<string, unknown>;
  }
  const runbook = inputs.runbook.includes('/') || /\.ya?ml$/.test(inputs.runbook) ? relative(outDir, inputs.runbookFile) : inputs.runbook;
  const observed = observe(
    { cause: end.cause, outcome: end.outcome, exitCode: end.exitCode, message: end.message, hosts: end.hosts ?? {}, facts: {} },
    events,
    [],
    0,
  );
  const start = events.find((e): e is Extract<RunEvent, { type: 'run-start' }> => e.type === 'run-start');
  const data: TestFile = {
    runbook,
    inventory,
    cases: [
      {
        name: `recorded run ${start?.runId ?? paths.path}${end.cause ? ` (${end.cause})` : ''}`,
        description: `Recorded from ${paths.path} by remedy test --record.`,
        ...(Object.keys(inputs.overrides).length > 0 ? { params: inputs.overrides } : {}),
        ...(inputs.limit !== null ? { limit: inputs.limit } : {}),
        // A guided run's approvals were the operator's: replayed as given (a step the operator
        // skipped would run in the replay and show up as a changed decision).
        yes: inputs.options.yes === true || inputs.options.mode === 'guided',
        returns: repliesFromRun(paths.path, events),
        expect: {
          cause: end.cause,
          outcome: end.outcome,
          exit_code: end.exitCode,
          ran_exactly: observed.ran,
          ...(observed.refused.length > 0 ? { refused: observed.refused } : {}),
          // Statuses as the run wrote them; the schema's list is what the executor knows today.
          ...(end.hosts ? { hosts: end.hosts as NonNullable<TestFile['cases'][number]['expect']['hosts']> } : {}),
        },
      },
    ],
  };
  return { data, runDir: paths.path };
}

/** The case as YAML text, with the schema line editors use. */
export function recordCase(dir: string, outFile: string): string {
  const { data } = caseFromRun(dir, outFile);
  const schema = relative(dirname(resolve(outFile)), SCHEMA_FILE);
  return `# yaml-language-server: $schema=${schema}\n${stringify(data, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}

/** Replays a run against the runbook as it is now; `changes` names every recorded decision that differs. */
export async function replayRun(dir: string): Promise<{ result: SuiteResult; changes: string[] }> {
  const started = performance.now();
  // Paths in the case are relative to the run directory (nothing is written there).
  const virtual = join(resolve(dir), 'replay.test.yaml');
  const text = recordCase(dir, virtual);
  const file = parseTestFile(virtual, text);
  const cases = await runFileCases(file);
  const changes = cases.flatMap((c) =>
    c.failures.map((f) => `${f.path.slice(1).join('.')}: recorded ${JSON.stringify(f.expected)}, now ${JSON.stringify(f.actual)}`),
  );
  return { result: { files: 1, cases, invalid: [], ms: performance.now() - started }, changes };
}
