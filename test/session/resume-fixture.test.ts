// Journal compatibility: run directories written by remedy before the session library and the
// action registry (test/fixtures/run-dirs/before-session, made by `remedy run` of main at
// 5407612 with two local hosts) resume with today's code. `refused` stopped before the fix
// (exit 5, no --yes); `killed` had the fix running on both hosts when the controller was
// SIGKILLed (host-start without host-end, no run-end, no result files).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import type { RunEvent } from '../../src/engine/events.js';
import { readJournal } from '../../src/journal/journal.js';
import { continueRun, openRun } from '../../src/session/resume.js';
import { FakeFleet } from '../engine/helpers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURE = join(ROOT, 'test/fixtures/run-dirs/before-session');
const CLI = join(ROOT, 'dist/cli/main.js');

/** A copy of the fixture whose inputs.json names the copied runbook and inventory (it was written in /tmp/fx). */
function copyFixture(run: 'refused' | 'killed'): { dir: string; runDir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'remedy-fixture-'));
  cpSync(FIXTURE, dir, { recursive: true });
  const runDir = join(dir, run);
  const inputsFile = join(runDir, 'inputs.json');
  const inputs = JSON.parse(readFileSync(inputsFile, 'utf8')) as Record<string, unknown>;
  expect(inputs.cwd).toBe('/tmp/fx');
  writeFileSync(inputsFile, JSON.stringify({ ...inputs, cwd: dir, runbookFile: join(dir, 'runbook.yaml'), inventory: join(dir, 'inventory.yaml') }, null, 2));
  return { dir, runDir };
}

function fleet(): FakeFleet {
  return new FakeFleet().on('echo 9', { stdout: '9\n' }).on('sleep 4; echo lowered', { stdout: 'lowered\n' }).on('echo verified', { stdout: 'verified\n' });
}

const ofType = <T extends RunEvent['type']>(events: RunEvent[], type: T): Extract<RunEvent, { type: T }>[] =>
  events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);

describe('a run directory written before the session library resumes', () => {
  test('refused before the fix: resumed with yes, the fix runs once per host, the diagnosis is not re-run, the run resolves', async () => {
    const { runDir } = copyFixture('refused');
    const run = openRun(runDir);
    if (run.state !== 'resumable') throw new Error(`expected a resumable run, got ${run.state}`);
    expect(run.mode).toBe('unattended');
    expect(run.operator).toBe('root');
    expect(run.point.cause).toBe('high');
    const hosts = fleet();
    const { result } = await continueRun(run, {
      yes: true,
      session: { forks: 5, output: 'jsonl' },
      transports: { get: (h) => hosts.get(h), closeAll: async () => undefined },
    });
    expect(result.outcome).toBe('resolved');
    expect(result.exitCode).toBe(0);
    for (const host of ['a', 'b']) expect(hosts.commands(host)).toEqual(['sleep 4; echo lowered', 'echo verified']);
    const events = readJournal(runDir).events;
    const starts = ofType(events, 'run-start');
    expect(starts.map((e) => e.runId)).toEqual([starts[0]?.runId, starts[0]?.runId]);
    expect(starts[1]?.resumedFrom).toBe(starts[0]?.time);
    expect(ofType(events, 'run-end').map((e) => e.outcome)).toEqual(['refused', 'resolved']);
    const result_ = JSON.parse(readFileSync(join(runDir, 'result.json'), 'utf8')) as { outcome: string; cause: string };
    expect(result_).toMatchObject({ outcome: 'resolved', cause: 'high' });
  });

  test('killed during the fix: resumed, the cut-short fix is re-checked by its verify and not run again', async () => {
    const { runDir } = copyFixture('killed');
    const before = readJournal(runDir).events;
    expect(ofType(before, 'host-start').filter((e) => e.step === 'fix')).toHaveLength(2);
    expect(ofType(before, 'run-end')).toHaveLength(0);
    const run = openRun(runDir);
    if (run.state !== 'resumable') throw new Error(`expected a resumable run, got ${run.state}`);
    const hosts = fleet();
    const { result } = await continueRun(run, {
      yes: true,
      session: { forks: 5, output: 'jsonl' },
      transports: { get: (h) => hosts.get(h), closeAll: async () => undefined },
    });
    expect(result.outcome).toBe('resolved');
    for (const host of ['a', 'b']) expect(hosts.commands(host)).toEqual(['echo verified']);
  });

  test('remedy resume (the built CLI) continues the killed run on its local hosts and exits 0', () => {
    const { dir, runDir } = copyFixture('killed');
    // Host locks of local hosts go to $TMPDIR/remedy.lock: this test's own, not the machine's.
    const env = { ...process.env, NO_COLOR: '1', TMPDIR: mkdtempSync(join(tmpdir(), 'remedy-fixture-tmp-')) };
    const r = spawnSync(process.execPath, [CLI, 'resume', runDir, '--yes', '--output', 'jsonl'], { cwd: dir, encoding: 'utf8', env, timeout: 60_000 });
    expect(r.stderr).toContain('remedy: rebuilt result.json and report.md from the journal');
    expect(r.stderr).not.toMatch(/error|\n\s+at /i);
    expect(r.status).toBe(0);
    const after = readJournal(runDir).events;
    const commands = ofType(after, 'host-start')
      .filter((e) => e.time > (ofType(after, 'run-start')[1]?.time ?? ''))
      .map((e) => `${e.host}: ${e.command ?? ''}`);
    expect(commands.sort()).toEqual(['a: echo verified', 'b: echo verified']);
    expect(ofType(after, 'run-end').at(-1)?.outcome).toBe('resolved');
  }, 60_000);
});
