// Issue 9's reproductions on the lab, through the built CLI: a verdict never says more than the
// run saw. mps-busy guided with the heap dump skipped (no fetch claims ok, no "heap dumps were
// saved"); a failed check retried with the printed hint (the retry's output goes to its own file,
// no "502200"); partial approval in a guided run (the MP whose restart was not approved is named
// as not remediated in the report's per-host status, never ok); an interrupted run resumed with
// the printed hint (its result, recap and report cover both segments and keep the operator).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunEvent } from '../../src/engine/events.js';
import { labBreak, labDown, labHeal, labStatus, labUp, type LabInfo } from '../../src/lab/index.js';
import { computeRecap, renderRecap } from '../../src/ui/recap.js';
import { TmuxSession, exitFileIn, requireTmux } from '../guide/tmux.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const RUNBOOK = 'apigee-502-bad-gateway';
const FAST = [
  '-e',
  'dump_interval=1s',
  '-e',
  'monitor_checks=2',
  '-e',
  'monitor_interval=1s',
  '-e',
  'up_timeout=3s',
  '-e',
  'cpu_threshold=1',
  '-e',
  'memory_threshold=0',
];

let lab: LabInfo;
let work: string;
const sessions: TmuxSession[] = [];

interface Event {
  type: string;
  step?: string;
  host?: string;
  status?: string;
  decision?: string;
  operator?: string;
}
interface Result {
  outcome: string;
  exitCode: number;
  cause: string | null;
  message: string | null;
  operator: string | null;
  hosts: Record<string, { status: string }>;
  segments: { operator: string; mode: string; runId: string }[];
  steps: { id: string; status: string; hosts: Record<string, { status: string; changed?: boolean }> }[];
}

function readRun(dir: string): { result: Result; events: Event[] } {
  const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as Result;
  const events = readFileSync(join(dir, 'journal.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Event);
  return { result, events };
}

function guided(name: string, argv: string[]): TmuxSession {
  const t = new TmuxSession({
    socket: `remedy-verdicts-${process.pid}-${name}`,
    argv: [process.execPath, CLI, ...argv],
    cwd: ROOT,
    env: { HOME: work, TERM: 'xterm-256color', LANG: 'C.UTF-8' },
    exitFile: exitFileIn(work, name),
    cols: 200,
    rows: 50,
  });
  sessions.push(t);
  return t;
}

/** The question being asked now (the last `? …` line among the last lines), or null. */
function asked(t: TmuxSession): string | null {
  return (
    t
      .tail(12)
      .filter((l) => l.startsWith('? '))
      .at(-1) ?? null
  );
}

/**
 * Answers every question of a guided run until it exits: the cause is accepted, approvals get
 * `answer(question)` (a key), and the exit code is returned.
 */
async function answerAll(t: TmuxSession, answer: (question: string) => string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const code = t.exitCodeNow();
    if (code !== null) return code;
    if (Date.now() > deadline) throw new Error(`guided run still going after ${timeoutMs} ms:\n${t.tail(40).join('\n')}`);
    const q = asked(t);
    if (q !== null) {
      t.keys([q.includes('Accept the cause') ? 'y' : answer(q), 'Enter']);
      // Until that question is answered (it turns into a ✔ line), nothing more is typed.
      await t.waitFor(`an answer to ${q}`, () => asked(t) !== q || t.exitCodeNow() !== null, 30_000);
      continue;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The Host/Status table right under a heading of report.md: host → status (bold removed). */
function hostStatusTable(report: string, heading: string): Map<string, string> {
  const start = report.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`report.md has no ${heading} section`);
  const next = report.indexOf('\n## ', start + heading.length + 2);
  const section = report.slice(start, next < 0 ? undefined : next).split('\n');
  const head = section.findIndex((l) => /^\|\s*Host\s*\|\s*Status\s*\|\s*$/.test(l));
  if (head < 0) throw new Error(`${heading} has no Host/Status table`);
  const rows = new Map<string, string>();
  for (const line of section.slice(head + 2)) {
    const m = /^\|\s*([^|]+?)\s*\|\s*\*\*([^*|]+)\*\*\s*\|\s*$/.exec(line);
    if (!m) break;
    rows.set(m[1] as string, m[2] as string);
  }
  return rows;
}

/** The host rows of a printed recap: host → its counts. */
function recapRows(text: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*((?:mp|router)-\d+)\s+:\s+(ok=.*)$/.exec(line);
    if (m) rows.set(m[1] as string, (m[2] as string).replace(/\s+/g, ' ').trim());
  }
  return rows;
}

beforeAll(async () => {
  requireTmux();
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`);
  work = mkdtempSync(join(tmpdir(), 'remedy-verdicts-e2e-'));
  chmodSync(work, 0o755); // the lab's service user must reach its files
  lab = await labUp({ dir: join(work, 'lab') });
}, 240_000);

afterAll(async () => {
  for (const s of sessions) s.kill();
  if (lab) await labDown(lab.dir);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('verdicts on the lab (issue 9)', () => {
  test('mps-busy guided, heap dump skipped: the fetch is not ok and the outcome does not say dumps were saved', { timeout: 480_000 }, async () => {
    await labHeal(lab.dir);
    await labBreak(lab.dir, 'mps-busy');
    const runDir = join(work, 'busy-skip-heap');
    const t = guided('busy', ['guide', RUNBOOK, '-i', lab.inventory, '--run-dir', runDir, '--operator', 'alice', ...FAST]);
    const code = await answerAll(t, (q) => (q.includes('heap_dump') ? 's' : 'y'), 420_000);
    const { result, events } = readRun(runDir);
    expect(result.cause).toBe('mps-busy');
    expect(events.filter((e) => e.type === 'approval' && e.step === 'busy_dumps.heap_dump').map((e) => e.decision)).toContain('skipped');
    // The heap dump was never taken: its fetch ran nowhere, and no step claims it ok.
    const fetch = result.steps.find((s) => s.id === 'busy_dumps.fetch_heap_dump');
    expect(fetch?.status ?? 'skipped').not.toBe('ok');
    expect(Object.values(fetch?.hosts ?? {}).map((h) => h.status)).not.toContain('ok');
    expect(
      readdirSync(join(runDir, 'artifacts'), { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.hprof')),
    ).toEqual([]);
    expect(code, t.tail(30).join('\n')).toBe(0);
    expect(result.outcome).toBe('resolved');
    expect(result.message).toContain('(no heap dump was taken)');
    expect(result.message).not.toMatch(/heap dumps \(/);
    // Declining evidence-only work leaves the MPs remediated.
    for (const mp of ['mp-1', 'mp-2', 'mp-3', 'mp-4']) expect(result.hosts[mp]?.status).toBe('ok');
  });

  test('partial approval in a guided run: the MP whose restart was not approved is named not remediated, never ok', { timeout: 480_000 }, async () => {
    await labHeal(lab.dir);
    // One MP down in each region: the down MPs restart one by one, each asked for on its own.
    await labBreak(lab.dir, 'mps-down', ['mp-1', 'mp-3']);
    const runDir = join(work, 'partial-approval');
    const t = guided('partial', ['guide', RUNBOOK, '-i', lab.inventory, '--run-dir', runDir, '--operator', 'alice', ...FAST]);
    const questions: string[] = [];
    const code = await answerAll(
      t,
      (q) => {
        questions.push(q);
        // Approve mp-1's restart, skip mp-3's.
        return q.includes('restart') && q.includes('mp-3') ? 's' : 'y';
      },
      420_000,
    );
    const { result, events } = readRun(runDir);
    expect(result.cause).toBe('mps-down');
    expect(questions.filter((q) => q.includes('restart'))).toHaveLength(2);
    expect(events.filter((e) => e.type === 'approval' && e.step === 'restart_down_mps.restart').map((e) => e.decision)).toEqual(['approved', 'skipped']);
    // mp-3 was never restarted, and it is indeed still down.
    const status = await labStatus(lab.dir);
    expect(status.hosts.find((h) => h.name === 'mp-3')?.service).toBe('stopped');
    expect(status.hosts.find((h) => h.name === 'mp-1')?.ready).toBe(true);
    // The verdict: no all-clear, exit 3, mp-3 named.
    expect(code, t.tail(30).join('\n')).toBe(3);
    expect(result.outcome).toBe('escalated');
    expect(result.message).toMatch(/not remediated: mp-3 \(restart_down_mps\.restart\)/);
    expect(result.hosts['mp-3']?.status).toBe('not-remediated');
    expect(result.hosts['mp-1']?.status).toBe('ok');
    // The report's per-host status (the Summary's Host/Status table, and the one under Final
    // outcome): mp-3 is not-remediated there — not the first mp-3 row any other table has.
    const report = readFileSync(join(runDir, 'report.md'), 'utf8');
    for (const heading of ['## Summary', '## Final outcome']) {
      const rows = hostStatusTable(report, heading);
      expect(rows.get('mp-3'), heading).toBe('not-remediated');
      expect(rows.get('mp-1'), heading).toBe('ok');
      expect(
        [...rows.values()].filter((v) => v === 'not-remediated'),
        heading,
      ).toEqual(['not-remediated']);
    }
    // The message claims only what ran: mp-1 running again, never mp-3.
    expect(result.message).toMatch(/Message Processors that were down \(mp-1\) are running again/);
    expect(report).not.toMatch(/were down \([^)]*mp-3[^)]*\) are running again/);
    expect(report).toContain('mp-3: not-remediated. Check this host by hand');
  });

  test(
    'an interrupted run resumed with the printed hint: result, recap and report cover both segments and keep the operator',
    { timeout: 480_000 },
    async () => {
      await labHeal(lab.dir);
      await labBreak(lab.dir, 'mps-down', ['mp-1', 'mp-3']);
      const runDir = join(work, 'resume-summary');
      const env = { ...process.env, NO_COLOR: '1', HOME: work };
      // Ctrl-C while the first MP's restart runs: a first Ctrl-C lets running commands finish (the
      // restart and its verify), and nothing new starts — the second MP waits. Waiting for the first
      // restart to have *ended* would race the next batch: in the lab it starts ~50 ms later.
      const first = spawn(process.execPath, [CLI, 'run', RUNBOOK, '-i', lab.inventory, '--run-dir', runDir, '--yes', '--operator', 'alice', ...FAST], {
        cwd: ROOT,
        env,
      });
      let firstOut = '';
      first.stdout.on('data', (d: Buffer) => (firstOut += d.toString()));
      first.stderr.on('data', (d: Buffer) => (firstOut += d.toString()));
      const firstExit = new Promise<number | null>((resolve) => first.on('close', (c) => resolve(c)));
      const journal = join(runDir, 'journal.jsonl');
      const restarting = (): boolean =>
        existsSync(journal) &&
        readFileSync(journal, 'utf8')
          .split('\n')
          .some((l) => l.includes('"type":"host-start"') && l.includes('"step":"restart_down_mps.restart"') && !l.includes('"phase":"verify"'));
      const deadline = Date.now() + 300_000;
      while (!restarting()) {
        if (Date.now() > deadline || first.exitCode !== null) throw new Error(`no MP restart seen before the run ended or timed out:\n${firstOut}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      first.kill('SIGINT');
      expect(await firstExit, firstOut).toBe(130);
      const before = readRun(runDir);
      expect(before.result.outcome).toBe('interrupted');
      // One MP restarted before the interruption; the other not yet.
      const restartedFirst = Object.entries(before.result.steps.find((st) => st.id === 'restart_down_mps.restart')?.hosts ?? {})
        .filter(([, h]) => h.changed)
        .map(([name]) => name);
      expect(restartedFirst).toHaveLength(1);
      // The printed hint, run as printed.
      const hint = /continue it with: (remedy resume [^\n]+)/.exec(firstOut)?.[1];
      expect(hint, firstOut).toBeDefined();
      const args = (hint as string)
        .replace(/^remedy /, '')
        .trim()
        .split(/\s+/);
      const resumed = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', env, timeout: 300_000 });
      const said = resumed.stdout + resumed.stderr;
      expect(resumed.status, said).toBe(0);
      const { result, events } = readRun(runDir);
      expect(result.outcome).toBe('resolved');
      // Both segments, each with the operator who started the run (the resume named nobody else).
      expect(result.segments.map((seg) => seg.operator)).toEqual(['alice', 'alice']);
      expect(result.operator).toBe('alice');
      expect(events.filter((e) => e.type === 'run-start').map((e) => e.operator)).toEqual(['alice', 'alice']);
      // Both MPs count as restarted: the one changed before the Ctrl-C too, in the result and the message.
      const restart = result.steps.find((st) => st.id === 'restart_down_mps.restart');
      expect(restart?.hosts['mp-1']?.changed).toBe(true);
      expect(restart?.hosts['mp-3']?.changed).toBe(true);
      expect(result.message).toContain('Message Processors that were down (mp-1, mp-3) are running again');
      for (const mp of ['mp-1', 'mp-2', 'mp-3', 'mp-4']) expect(result.hosts[mp]?.status, mp).toBe('ok');
      // The printed recap counts the whole run (both segments), not only the resumed one.
      const all = events as unknown as RunEvent[];
      const secondStart = all.findLastIndex((e) => e.type === 'run-start');
      const whole = recapRows(renderRecap(computeRecap(all)));
      const resumedOnly = recapRows(renderRecap(computeRecap(all.slice(secondStart))));
      const printed = recapRows(said);
      expect(printed.size).toBe(6);
      expect(printed).toEqual(whole);
      expect(printed).not.toEqual(resumedOnly);
      expect(printed.get(restartedFirst[0] as string)).toMatch(/changed=1/);
      expect(printed.get('mp-3')).toMatch(/changed=1/);
      // The report has both segments' steps and the starting operator.
      const report = readFileSync(join(runDir, 'report.md'), 'utf8');
      expect(report).toMatch(/\| Operator \| alice/);
      expect(report).toContain('`diagnose`');
      expect(hostStatusTable(report, '## Summary').get('mp-1')).toBe('ok');
    },
  );

  test('a failed verify retried with the printed hint: each attempt has its own output file (no 502200)', { timeout: 180_000 }, async () => {
    const marker = join(work, 'answer');
    writeFileSync(marker, '502');
    chmodSync(work, 0o755);
    const runbook = join(work, 'retry.yaml');
    writeFileSync(
      runbook,
      [
        'name: retry',
        'summary: a check that fails once, then passes when retried',
        'steps:',
        '  - id: check',
        '    name: Read the answer',
        '    hosts: router-1',
        `    run: cat ${marker}; [ "$(cat ${marker})" = 200 ]`,
        '  - id: done',
        '    name: done',
        '    outcome:',
        '      status: resolved',
        '      require: steps.check.status == "ok"',
        '      message: checked',
        '',
      ].join('\n'),
    );
    const runDir = join(work, 'retry-run');
    const env = { ...process.env, NO_COLOR: '1' };
    const failed = spawnSync(process.execPath, [CLI, 'run', runbook, '-i', lab.inventory, '--run-dir', runDir, '--yes'], {
      cwd: ROOT,
      encoding: 'utf8',
      env,
      timeout: 120_000,
    });
    expect(failed.status, failed.stderr).toBe(1);
    const hint = /remedy resume [^\n]+/.exec(failed.stdout + failed.stderr)?.[0];
    expect(hint, failed.stdout + failed.stderr).toBeDefined();
    writeFileSync(marker, '200');
    const args = (hint as string)
      .replace(/^remedy /, '')
      .trim()
      .split(/\s+/);
    const retried = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', env, timeout: 120_000 });
    expect(retried.status, retried.stdout + retried.stderr).toBe(0);
    const out = join(runDir, 'outputs', 'check');
    const files = readdirSync(out)
      .filter((f) => f.endsWith('.stdout'))
      .sort();
    expect(files).toEqual(['router-1.retry2.stdout', 'router-1.stdout']);
    expect(readFileSync(join(out, 'router-1.stdout'), 'utf8').trim()).toBe('502');
    expect(readFileSync(join(out, 'router-1.retry2.stdout'), 'utf8').trim()).toBe('200');
  });
});
