// `remedy test` through the built CLI: the shipped suite passes (this is how `npm test` runs
// every runbooks/**/*.test.yaml), failures exit 1 with file:line:col and a diff, invalid files 64.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { miniProject, removeMiniProjects } from './helpers.js';

afterAll(removeMiniProjects);

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');

function remedy(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`);
});

describe('remedy test', { timeout: 120_000 }, () => {
  it('the shipped runbooks pass their suite: at least 40 cases, exit 0', () => {
    const r = remedy('test', 'runbooks/', '--output', 'jsonl');
    const lines = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; status?: string; name?: string; failures?: unknown[] });
    const failed = lines.filter((l) => l.type === 'case' && l.status !== 'passed');
    expect(failed, JSON.stringify(failed, null, 2)).toEqual([]);
    const summary = lines.at(-1) as { type: string; cases: number; passed: number; exitCode: number };
    expect(summary.type).toBe('summary');
    expect(summary.cases).toBeGreaterThanOrEqual(40);
    expect(summary.passed).toBe(summary.cases);
    expect(r.code, r.err).toBe(0);
  });

  it('a failing case exits 1 and names the assertion with a diff', () => {
    const dir = miniProject({
      'mini.test.yaml':
        'runbook: mini.yaml\ninventory: inventory.yaml\ncases:\n  - name: wrong\n    returns: { check: { stdout: "200" } }\n    expect:\n      outcome: resolved\n',
    });
    const r = remedy('test', dir);
    expect(r.code, r.err).toBe(1);
    expect(r.out).toContain('✗');
    expect(r.out).toMatch(/mini\.test\.yaml:7:16: expect\.outcome: the outcome differs\n\s+- expected\s+\+ actual\n\s+- resolved\n\s+\+ nothing-to-do/);
    expect(r.out).toMatch(/0 passed, 1 failed — 1 cases in 1 files/);
  });

  it('an invalid test file exits 64 with file:line:col; jsonl says so too', () => {
    const dir = miniProject({ 'bad.test.yaml': 'runbook: mini.yaml\ninventory: inventory.yaml\ncases:\n  - name: x\n    expect: { outcome: fixed }\n' });
    const r = remedy('test', join(dir, 'bad.test.yaml'));
    expect(r.code).toBe(64);
    expect(r.out).toMatch(/bad\.test\.yaml:5:24: cases\.0\.expect\.outcome: /);
    const j = remedy('test', join(dir, 'bad.test.yaml'), '--output', 'jsonl');
    expect(j.code).toBe(64);
    expect(j.out).toMatch(/"type":"invalid"/);
    expect(j.out).toMatch(/"type":"summary".*"exitCode":64/);
  });

  it('a path that does not exist, or holds no test, is a usage error (64)', () => {
    expect(remedy('test', 'nosuch/').code).toBe(64);
    const dir = miniProject({});
    writeFileSync(join(dir, 'notes.txt'), 'x');
    const r = remedy('test', dir);
    expect(r.code).toBe(64);
    expect(r.err).toMatch(/no \*\.test\.yaml files/);
  });

  it('--jobs N runs the cases on N worker threads: the same results in the same order as in one process', () => {
    // Three files (one invalid, one with a failing case) and a file big enough to be split into shards.
    const many = Array.from({ length: 7 }, (_, i) =>
      i % 3 === 0
        ? `  - name: case ${i} down\n    returns: { check: { w2: { stdout: "000" }, "*": { stdout: "200" } }, restart: { verify: { stdout: "200" } } }\n    expect: { cause: down, outcome: resolved }\n`
        : `  - name: case ${i} fine\n    returns: { check: { stdout: "200" } }\n    expect: { cause: none, outcome: nothing-to-do }\n`,
    ).join('');
    const dir = miniProject({
      'a.test.yaml': `runbook: mini.yaml\ninventory: inventory.yaml\ncases:\n${many}`,
      'b.test.yaml':
        'runbook: mini.yaml\ninventory: inventory.yaml\ncases:\n  - name: wrong\n    returns: { check: { stdout: "200" } }\n    expect: { outcome: resolved }\n',
      'c.test.yaml': 'runbook: mini.yaml\ninventory: inventory.yaml\ncases:\n  - name: x\n    expect: { outcome: fixed }\n',
    });
    const withoutTimes = (out: string): string[] => out.split('\n').map((l) => l.replace(/"ms":[0-9.]+/g, '"ms":0'));
    const one = remedy('test', dir, '--jobs', '1', '-f', 'jsonl');
    expect(one.code).toBe(64);
    expect(one.out.match(/"type":"case"/g)).toHaveLength(8);
    for (const jobs of ['2', '3']) {
      const r = remedy('test', dir, '--jobs', jobs, '-f', 'jsonl');
      expect(r.code, r.err).toBe(64);
      expect(withoutTimes(r.out)).toEqual(withoutTimes(one.out));
    }
    // Text output too: the failure's diff and the summary line.
    const text = remedy('test', dir, '--jobs', '2');
    expect(text.out).toMatch(/b\.test\.yaml:6:24: expect\.outcome: the outcome differs/);
    expect(text.out).toMatch(/7 passed, 1 failed, 1 invalid test file\(s\) — 8 cases in 3 files/);
  });

  it('scratch directories of a remedy test that was killed are removed by the next run; a running one keeps its own', () => {
    const root = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
    const gone = spawnSync('true').pid as number; // a pid that has exited
    const leftover = join(root, `remedy-test-${gone}-Ab12Cd`);
    const live = join(root, `remedy-test-${process.pid}-Ef34Gh`);
    mkdirSync(join(leftover, 'case-1', 'artifacts', 'mp-1'), { recursive: true });
    writeFileSync(join(leftover, 'case-1', 'artifacts', 'mp-1', 'system.log'), 'left behind\n');
    mkdirSync(live, { recursive: true });
    try {
      // The diagnostics suite fetches files, so its cases need run directories.
      const r = spawnSync(process.execPath, [CLI, 'test', 'runbooks/apigee/tests/apigee-gather-diagnostics.test.yaml'], { cwd: ROOT, encoding: 'utf8' });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(existsSync(leftover)).toBe(false);
      expect(existsSync(live)).toBe(true);
      expect(readdirSync(root).filter((n) => n.startsWith(`remedy-test-${r.pid}-`))).toEqual([]);
    } finally {
      rmSync(leftover, { recursive: true, force: true });
      rmSync(live, { recursive: true, force: true });
    }
  });

  it('--jobs takes a whole number from 1 up (64 otherwise)', () => {
    const r = remedy('test', 'runbooks/', '--jobs', '0');
    expect(r.code).toBe(64);
    expect(r.err).toMatch(/--jobs takes a whole number from 1 to 64/);
  });
});
