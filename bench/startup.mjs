#!/usr/bin/env node
// Start-up benchmark (not a test): wall and CPU (user+sys, from the child's rusage) of short CLI
// commands in a new process, with the shell-context cache cold (REMEDY_CACHE_DIR=off: mvdan-sh is
// loaded and parses every command) and warm (a cache filled by one run before). The load average
// is printed beside them: on this shared box wall time also counts waiting for a CPU, CPU time
// much less so. Start-up to the first SSH connection of `remedy run` is measured by bench/fanout
// (NS=1 TOOLS="remedy ssh2" PERSTEP=0 BIG_N=0 HUGE_N=0 REPS=3 npm run bench:fanout), against a
// raw ssh2 script on a loopback sshd. Uses the built code: run `npm run build` first.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist/cli/main.js');
const REPS = Number(process.env.REPS ?? 5);
const RUNBOOK = join(ROOT, 'runbooks/apigee/apigee-502-bad-gateway.yaml');
const INVENTORY = join(ROOT, 'inventory/example.yaml');

const COMMANDS = [
  { name: 'node -e 0 (Node itself)', argv: ['-e', '0'], node: true },
  { name: 'remedy --version', argv: ['--version'] },
  { name: 'remedy --help', argv: ['--help'] },
  { name: 'remedy plan (502 runbook, 10 hosts)', argv: ['plan', RUNBOOK, '-i', INVENTORY] },
  { name: 'remedy validate (502 runbook)', argv: ['validate', RUNBOOK] },
  { name: 'remedy test runbooks/', argv: ['test', join(ROOT, 'runbooks'), '--output', 'jsonl'] },
];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One run in a new process: wall ms, and the child's CPU ms (user+sys). */
function once(cmd, env) {
  const args = cmd.node ? cmd.argv : [CLI, ...cmd.argv];
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 << 20 });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd.name} exited ${r.status}: ${r.stderr.slice(0, 500)}`);
  return { wall, cpu: childCpuMs() };
}

// spawnSync's children are reaped by this process: their CPU shows in RUSAGE_CHILDREN, which
// Node does not expose; /proc/self/stat fields 16-17 (cutime, cstime) hold it, in clock ticks.
let lastChildTicks = childTicks();
function childTicks() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[13]) + Number(fields[14]);
}
function childCpuMs() {
  const now = childTicks();
  const ms = ((now - lastChildTicks) * 1000) / 100; // USER_HZ is 100 on Linux
  lastChildTicks = now;
  return ms;
}

const warmDir = mkdtempSync(join(tmpdir(), 'remedy-bench-cache-'));
try {
  // Fill the cache once (every runbook the commands touch).
  for (const cmd of COMMANDS) if (!cmd.node) once(cmd, { REMEDY_CACHE_DIR: warmDir });
  const loadBefore = loadavg();
  const rows = [];
  for (const cmd of COMMANDS) {
    const cold = [];
    const warm = [];
    for (let rep = 0; rep < REPS; rep++) {
      cold.push(once(cmd, { REMEDY_CACHE_DIR: 'off' }));
      warm.push(once(cmd, { REMEDY_CACHE_DIR: warmDir }));
    }
    rows.push({ cmd, cold, warm });
  }
  const loadAfter = loadavg();
  const fmt = (xs, k) => `${median(xs.map((x) => x[k])).toFixed(0)} (${Math.min(...xs.map((x) => x[k])).toFixed(0)})`;
  console.log(
    `start-up, ${REPS} runs each, median (fastest) ms; load average ${loadBefore.map((l) => l.toFixed(1)).join(' ')} before, ${loadAfter.map((l) => l.toFixed(1)).join(' ')} after, on ${availableParallelism()} CPUs`,
  );
  console.log('| command | wall, cache off | CPU, cache off | wall, cache warm | CPU, cache warm |');
  console.log('|---|---|---|---|---|');
  for (const { cmd, cold, warm } of rows)
    console.log(`| ${cmd.name} | ${fmt(cold, 'wall')} | ${fmt(cold, 'cpu')} | ${fmt(warm, 'wall')} | ${fmt(warm, 'cpu')} |`);
} finally {
  rmSync(warmDir, { recursive: true, force: true });
}
