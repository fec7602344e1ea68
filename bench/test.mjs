#!/usr/bin/env node
// `remedy test` benchmark (not a test): times the shipped suite, `remedy test runbooks/`, as a
// user runs it (the built CLI, a new process each time), next to the target (< 2 s), and the
// cases alone in one warm process. New-process runs are measured with the caches cold (a fresh
// REMEDY_CACHE_DIR: no shell contexts, no loaded test files or runbooks, as on a first run) and
// warm (filled by one run before), on the default worker threads and with -j 1 (one thread).
// Wall and CPU (user+sys of the child and its threads) are printed beside the load average: on
// this shared box wall time also counts waiting for a CPU. Uses the built code: `npm run bench:test`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { suiteWorkers } from '../dist/testing/parallel.js';
import { findTestFiles, runSuite } from '../dist/testing/suite.js';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist/cli/main.js');
const REPS = Number(process.env.REPS ?? 5);
const TARGET_MS = 2000;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

// spawnSync's children are reaped by this process: their CPU shows in RUSAGE_CHILDREN, which
// Node does not expose; /proc/self/stat fields 16-17 (cutime, cstime) hold it, in clock ticks.
function childTicks() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[13]) + Number(fields[14]);
}

let cases = 0;
/** One `remedy test runbooks/` in a new process: wall ms and CPU ms. */
function once(args, cacheDir) {
  const ticks = childTicks();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'test', 'runbooks/', '--output', 'jsonl', ...args], {
    cwd: ROOT,
    env: { ...process.env, REMEDY_CACHE_DIR: cacheDir },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`remedy test runbooks/ exited ${r.status}: ${r.stdout.slice(-2000)} ${r.stderr.slice(0, 2000)}`);
  cases = JSON.parse(r.stdout.trim().split('\n').at(-1)).cases;
  return { wall, cpu: ((childTicks() - ticks) * 1000) / 100 }; // USER_HZ is 100 on Linux
}

const scratch = [];
const freshDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'remedy-bench-cache-'));
  scratch.push(d);
  return d;
};

const defaultThreads = suiteWorkers(findTestFiles([join(ROOT, 'runbooks')]), undefined);
const rows = [];
const loadBefore = load();
try {
  for (const [label, args] of [
    [`default: ${defaultThreads === 1 ? 'one thread' : `${defaultThreads} worker threads`} on ${availableParallelism()} CPUs`, []],
    // Whichever the default is not: threads against one thread, side by side.
    ...(defaultThreads === 1 ? [['-j 2 (two worker threads)', ['-j', '2']]] : [['-j 1 (one thread)', ['-j', '1']]]),
  ]) {
    const cold = [];
    for (let rep = 0; rep < REPS; rep++) cold.push(once(args, freshDir()));
    const warmDir = freshDir();
    once(args, warmDir);
    const warm = [];
    for (let rep = 0; rep < REPS; rep++) warm.push(once(args, warmDir));
    for (const [cache, xs] of [
      ['cold', cold],
      ['warm', warm],
    ])
      rows.push({ label, cache, wall: median(xs.map((x) => x.wall)), fastest: Math.min(...xs.map((x) => x.wall)), cpu: median(xs.map((x) => x.cpu)) });
  }
} finally {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
}

// The cases alone: one process, after a first pass (code loaded, JIT warm).
const inProcess = [];
const cpu = [];
await runSuite([join(ROOT, 'runbooks')]);
for (let rep = 0; rep < REPS; rep++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await runSuite([join(ROOT, 'runbooks')]);
  const c = process.cpuUsage(c0);
  inProcess.push(performance.now() - t0);
  cpu.push((c.user + c.system) / 1000);
}

console.log(`remedy test runbooks/: ${cases} cases; ${availableParallelism()} CPUs; load average ${loadBefore} before, ${load()} after`);
console.log(`| \`remedy test runbooks/\`, new process (median of ${REPS}) | caches | wall | fastest | CPU (user+sys) | target |`);
console.log('|---|---|---|---|---|---|');
for (const r of rows)
  console.log(`| ${r.label} | ${r.cache} | ${r.wall.toFixed(0)} ms | ${r.fastest.toFixed(0)} ms | ${r.cpu.toFixed(0)} ms | < ${TARGET_MS} ms |`);
console.log(
  `| in one warm process, the cases alone | — | ${median(inProcess).toFixed(0)} ms | ${Math.min(...inProcess).toFixed(0)} ms | ${median(cpu).toFixed(0)} ms | |`,
);
console.log(`| per case, warm | — | ${(median(inProcess) / cases).toFixed(1)} ms | | | |`);
const headline = rows.find((r) => r.cache === 'warm' && !r.label.startsWith('-j'));
const coldDefault = rows.find((r) => r.cache === 'cold' && !r.label.startsWith('-j'));
console.log(
  `${headline.wall < TARGET_MS ? 'target met' : 'TARGET MISSED'} with warm caches (median ${headline.wall.toFixed(0)} ms); ` +
    `${coldDefault.wall < TARGET_MS ? 'met' : 'missed'} on a first run with cold caches (median ${coldDefault.wall.toFixed(0)} ms)`,
);
