// Issue 9's reproductions on the lab, through the built CLI: a verdict never says more than the
// run saw. mps-busy guided with the heap dump skipped (no fetch claims ok, no "heap dumps were
// saved"); a failed check retried with the printed hint (the retry's output goes to its own file,
// no "502200"). Partial approval and the resume summary are covered in-process (engine tests).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { labBreak, labDown, labHeal, labUp, type LabInfo } from '../../src/lab/index.js';
import { TmuxSession, exitFileIn, requireTmux } from '../guide/tmux.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const RUNBOOK = 'apigee-502-bad-gateway';
const FAST = ['-e', 'dump_interval=1s', '-e', 'monitor_checks=2', '-e', 'monitor_interval=1s', '-e', 'up_timeout=3s', '-e', 'cpu_threshold=1', '-e', 'memory_threshold=0'];

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
  segments: { operator: string; mode: string }[];
  steps: { id: string; status: string; hosts: Record<string, { status: string }> }[];
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
  return t.tail(12).filter((l) => l.startsWith('? ')).at(-1) ?? null;
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
    expect(readdirSync(join(runDir, 'artifacts'), { recursive: true }).map(String).filter((f) => f.endsWith('.hprof'))).toEqual([]);
    expect(code, t.tail(30).join('\n')).toBe(0);
    expect(result.outcome).toBe('resolved');
    expect(result.message).toContain('(no heap dump was taken)');
    expect(result.message).not.toMatch(/heap dumps \(/);
    // Declining evidence-only work leaves the MPs remediated.
    for (const mp of ['mp-1', 'mp-2', 'mp-3', 'mp-4']) expect(result.hosts[mp]?.status).toBe('ok');
  });

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
    const failed = spawnSync(process.execPath, [CLI, 'run', runbook, '-i', lab.inventory, '--run-dir', runDir, '--yes'], { cwd: ROOT, encoding: 'utf8', env, timeout: 120_000 });
    expect(failed.status, failed.stderr).toBe(1);
    const hint = /remedy resume [^\n]+/.exec(failed.stdout + failed.stderr)?.[0];
    expect(hint, failed.stdout + failed.stderr).toBeDefined();
    writeFileSync(marker, '200');
    const args = (hint as string).replace(/^remedy /, '').trim().split(/\s+/);
    const retried = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', env, timeout: 120_000 });
    expect(retried.status, retried.stdout + retried.stderr).toBe(0);
    const out = join(runDir, 'outputs', 'check');
    const files = readdirSync(out).filter((f) => f.endsWith('.stdout')).sort();
    expect(files).toEqual(['router-1.retry2.stdout', 'router-1.stdout']);
    expect(readFileSync(join(out, 'router-1.stdout'), 'utf8').trim()).toBe('502');
    expect(readFileSync(join(out, 'router-1.retry2.stdout'), 'utf8').trim()).toBe('200');
  });
});
