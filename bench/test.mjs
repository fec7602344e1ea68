#!/usr/bin/env node
// `remedy test` benchmark (not a test): times the shipped suite, `remedy test runbooks/`, as a
// user runs it (the built CLI, a fresh process each time) and in one process (the cases alone),
// next to the target (< 2 s). Uses the built code: run `npm run bench:test`.
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { $ } from 'zx';
import { runSuite } from '../dist/testing/suite.js';

const ROOT = join(import.meta.dirname, '..');
const REPS = Number(process.env.REPS ?? 5);
const TARGET_MS = 2000;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const cli = [];
let cases = 0;
for (let rep = 0; rep < REPS; rep++) {
  const t0 = performance.now();
  const r = await $({ cwd: ROOT, quiet: true, nothrow: true })`${process.execPath} ${join(ROOT, 'dist/cli/main.js')} test runbooks/ --output jsonl`;
  cli.push(performance.now() - t0);
  if (r.exitCode !== 0) {
    console.error(r.stdout, r.stderr);
    throw new Error(`remedy test runbooks/ exited ${r.exitCode}`);
  }
  cases = JSON.parse(r.stdout.trim().split('\n').at(-1)).cases;
}

// CPU time too: on a machine shared with other work, wall time measures the neighbours as well.
const inProcess = [];
const cpu = [];
for (let rep = 0; rep < REPS; rep++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await runSuite([join(ROOT, 'runbooks')]);
  const c = process.cpuUsage(c0);
  inProcess.push(performance.now() - t0);
  cpu.push((c.user + c.system) / 1000);
}

console.log(
  `remedy test runbooks/: ${cases} cases; load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on ${availableParallelism()} CPUs`,
);
console.log('| measure | remedy | target |');
console.log('|---|---|---|');
console.log(`| median of ${REPS}, \`remedy test runbooks/\` (new process: start-up, load, run) | ${median(cli).toFixed(0)} ms | < ${TARGET_MS} ms |`);
console.log(`| fastest, new process | ${Math.min(...cli).toFixed(0)} ms | |`);
console.log(`| median of ${REPS}, in one warm process (the cases alone) | ${median(inProcess).toFixed(0)} ms | |`);
console.log(`| CPU (user+sys) of that, median | ${median(cpu).toFixed(0)} ms | |`);
console.log(`| per case, warm | ${(median(inProcess) / cases).toFixed(1)} ms | |`);
console.log(median(cli) < TARGET_MS ? 'target met' : 'TARGET MISSED');
