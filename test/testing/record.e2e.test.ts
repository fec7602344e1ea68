// A real incident becomes a regression test: the 502 runbook fixes the lab's mps-down fault over
// SSH, `remedy test --record` turns that run directory into a case, and the case passes offline,
// both from the file it wrote and replayed straight from the run (--from-run).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { labBreak, labDown, labUp, type LabInfo } from '../../src/lab/index.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const FAST = ['-e', 'dump_interval=1s', '-e', 'monitor_checks=2', '-e', 'monitor_interval=1s', '-e', 'up_timeout=3s'];

let lab: LabInfo;
let work: string;

function remedy(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 110_000, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`);
  work = mkdtempSync(join(tmpdir(), 'remedy-record-e2e-'));
  chmodSync(work, 0o755); // the lab's service user must reach its files
  lab = await labUp({ dir: join(work, 'lab') });
});

afterAll(async () => {
  if (lab) await labDown(lab.dir);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('remedy test --record on a real lab run', () => {
  it('records the mps-down fix; the recorded case passes offline, and so does --from-run', async () => {
    await labBreak(lab.dir, 'mps-down');
    const runDir = join(work, 'incident');
    const run = remedy(['run', 'apigee-502-bad-gateway', '-i', lab.inventory, '--run-dir', runDir, '--yes', ...FAST]);
    expect(run.code, run.stderr).toBe(0);

    const file = join(work, 'incident.test.yaml');
    const rec = remedy(['test', '--record', runDir, '-o', file]);
    expect(rec.code, rec.stderr).toBe(0);
    const data = parse(readFileSync(file, 'utf8')) as {
      cases: { returns: Record<string, unknown>; expect: { cause: string; outcome: string; ran_exactly: string[] } }[];
    };
    const c = data.cases[0];
    expect(c?.expect).toMatchObject({ cause: 'mps-down', outcome: 'resolved' });
    expect(c?.expect.ran_exactly).toEqual(expect.arrayContaining(['router_probe', 'mp_status', 'diagnose', 'verify_routers', 'resolved']));
    // The lab's real answers, e.g. what mp_status printed on each MP.
    expect(JSON.stringify(c?.returns.mp_status)).toMatch(/running=false/);

    const replayed = remedy(['test', file, '-v']);
    expect(replayed.code, replayed.stdout + replayed.stderr).toBe(0);
    expect(replayed.stdout).toMatch(/✓ .*incident\.test\.yaml › recorded run .* \(mps-down\)/);
    expect(replayed.stdout).toMatch(/1 passed — 1 cases in 1 files/);

    const fromRun = remedy(['test', '--from-run', runDir]);
    expect(fromRun.code, fromRun.stdout + fromRun.stderr).toBe(0);
    expect(fromRun.stdout).not.toMatch(/Decisions that changed/);
  });
});
