#!/usr/bin/env node
// Service benchmark (not a test): `remedy serve` (built CLI, embedded redis-server, in-process
// worker) with a one-step runbook on the local transport (ansible_connection: local: the
// measured path is intake → policy → BullMQ → worker → session → transport, without SSH's own
// connection set-up, which bench/fanout covers).
//   1. alert → first command latency, p50/p90/p99, at 1 and 10 alerts/s (distinct fingerprints),
//      from the run records (alert.receivedAt → firstCommandAt, both taken by remedy);
//   2. runs per second of the one-step runbook on one worker (concurrency 1 and 4);
//   3. beside it, `remedy run` of the same runbook in a shell loop (a process per run).
// For the latency runs it also prints where the time goes (p50/p99 of each phase, from the run
// records and each run's journal): intake → worker start (queue wait, pick-up, planning, run
// directory), worker start → run-start (session set-up), run-start → first command (executor).
// Run: `npm run bench:serve` (builds dist/ first). Environment: N=30 alerts per rate, RUNS=50,
// PARTS=latency to measure only the latency (skips throughput and the shell loop), SERVE_NODE_ARGS
// for node flags of the serve process (SERVE_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR' profiles it).
// Exit: 0 targets met (p50 ≤ 100 ms, p99 ≤ 300 ms at both rates), 2 a target missed.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist/cli/main.js');
const N = Number(process.env.N ?? 30);
const RUNS = Number(process.env.RUNS ?? 50);
const TOKEN = 'bench-token';
const work = mkdtempSync(join(tmpdir(), 'remedy-bench-serve-'));
const runbook = join(work, 'one-step.yaml');
writeFileSync(runbook, 'name: one-step\nsummary: one read-only command\nsteps:\n  - id: check\n    name: check\n    hosts: all\n    run: "true"\n');
const inventory = join(work, 'inventory.yaml');
writeFileSync(inventory, 'all:\n  hosts:\n    local1: { ansible_connection: local }\n');
const policy = join(work, 'policy.yaml');
writeFileSync(
  policy,
  `auth:\n  tokens:\n    - { name: bench, env: BENCH_TOKEN, role: admin }\nroutes:\n  - { match: { alertname: Bench }, runbook: ${runbook}, inventory: ${inventory}, mode: auto, breaker: false }\n`,
);

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startServe(concurrency) {
  const data = join(work, `data-${concurrency}-${Date.now()}`);
  const child = spawn(
    process.execPath,
    [
      ...(process.env.SERVE_NODE_ARGS ? process.env.SERVE_NODE_ARGS.split(' ') : []),
      CLI,
      'serve',
      '--policy',
      policy,
      '--listen',
      '127.0.0.1:0',
      '--data',
      data,
      '--concurrency',
      String(concurrency),
    ],
    {
      env: { ...process.env, BENCH_TOKEN: TOKEN },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  const url = await new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      err += d;
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]);
    });
    child.once('exit', (c) => reject(new Error(`serve exited ${c}: ${err}`)));
  });
  return { url, stop: () => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM'))) };
}

const api = async (url, path, body) => {
  const res = await fetch(`${url}${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return res.json();
};
const alert = (fp) => ({ version: '4', status: 'firing', alerts: [{ status: 'firing', labels: { alertname: 'Bench', n: fp }, fingerprint: fp }] });

async function waitEnded(url, ids) {
  for (;;) {
    const { runs } = await api(url, `/api/runs?limit=1000`);
    const mine = runs.filter((r) => ids.has(r.id));
    if (mine.length === ids.size && mine.every((r) => !['queued', 'running'].includes(r.outcome))) return mine;
    await sleep(50);
  }
}

async function latency(rate) {
  const s = await startServe(4);
  try {
    // Warm-up (first run loads the runbook and the modules).
    const warm = await api(s.url, '/hooks/alertmanager', alert(`warm-${rate}`));
    await waitEnded(s.url, new Set([warm.results[0].run]));
    const ids = new Set();
    for (let i = 0; i < N; i++) {
      const t = Date.now();
      const r = await api(s.url, '/hooks/alertmanager', alert(`lat-${rate}-${i}`));
      ids.add(r.results[0].run);
      await sleep(Math.max(0, 1000 / rate - (Date.now() - t)));
    }
    const runs = await waitEnded(s.url, ids);
    const bad = runs.filter((r) => r.outcome !== 'nothing-to-do' && r.outcome !== 'resolved');
    if (bad.length || runs.some((r) => !r.firstCommandAt))
      throw new Error(`runs did not complete: ${bad.map((r) => `${r.id} ${r.outcome} ${r.message}`).join('; ')}`);
    const phases = [];
    for (const id of ids) {
      const r = await api(s.url, `/api/runs/${id}`);
      const events = readFileSync(join(r.runDir, 'journal.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const runStart = Date.parse(events.find((e) => e.type === 'run-start').time);
      const received = Date.parse(r.alert.receivedAt);
      const started = Date.parse(r.startedAt);
      phases.push({
        total: Date.parse(r.firstCommandAt) - received,
        toWorker: started - received,
        session: runStart - started,
        executor: Date.parse(r.firstCommandAt) - runStart,
      });
    }
    breakdowns.push({ rate, phases });
    return phases.map((p) => p.total);
  } finally {
    await s.stop();
  }
}

async function throughput(concurrency) {
  const s = await startServe(concurrency);
  try {
    const warm = await api(s.url, '/hooks/alertmanager', alert(`warm-t${concurrency}`));
    await waitEnded(s.url, new Set([warm.results[0].run]));
    const t0 = Date.now();
    const ids = new Set();
    const posted = await Promise.all(Array.from({ length: RUNS }, (_, i) => api(s.url, '/hooks/alertmanager', alert(`tp-${concurrency}-${i}`))));
    for (const p of posted) ids.add(p.results[0].run);
    await waitEnded(s.url, ids);
    return RUNS / ((Date.now() - t0) / 1000);
  } finally {
    await s.stop();
  }
}

function cliLoop() {
  const n = Math.min(RUNS, 20);
  const t0 = Date.now();
  const r = spawnSync(
    'bash',
    ['-c', `for i in $(seq 1 ${n}); do node ${CLI} run ${runbook} -i ${inventory} --run-dir ${work}/cli-$i --output jsonl >/dev/null || exit 1; done`],
    { stdio: 'inherit' },
  );
  if (r.status !== 0) throw new Error('remedy run loop failed');
  const s = (Date.now() - t0) / 1000;
  return { perRunMs: (s * 1000) / n, runsPerSecond: n / s };
}

const rows = [];
const breakdowns = [];
let missed = false;
try {
  for (const rate of [1, 10]) {
    const xs = await latency(rate);
    const [p50, p90, p99] = [pct(xs, 50), pct(xs, 90), pct(xs, 99)];
    const ok = p50 <= 100 && p99 <= 300;
    missed ||= !ok;
    rows.push(
      `| alert → first command, ${rate} alert/s (n=${xs.length}) | ${p50} ms | ${p90} ms | ${p99} ms | ${ok ? 'met' : 'MISSED'} (p50 ≤ 100, p99 ≤ 300) |`,
    );
  }
  if (process.env.PARTS !== 'latency') {
    for (const c of [1, 4])
      rows.push(`| one-step runs per second, one worker, concurrency ${c} (n=${RUNS}) | ${(await throughput(c)).toFixed(1)} runs/s | | | |`);
    const loop = cliLoop();
    rows.push(`| \`remedy run\` in a shell loop (a process per run) | ${loop.runsPerSecond.toFixed(2)} runs/s | ${loop.perRunMs.toFixed(0)} ms/run | | |`);
  }
  console.log(`\n| measure | p50 / value | p90 | p99 | target |\n|---|---|---|---|---|\n${rows.join('\n')}\n`);
  const phase = (xs, k) =>
    `${pct(
      xs.map((x) => x[k]),
      50,
    )} / ${pct(
      xs.map((x) => x[k]),
      99,
    )} ms`;
  console.log(
    `| where the time goes (p50 / p99) | intake → worker start (queue, pick-up, plan, run dir) | → run-start (session set-up) | → first command (executor) |\n|---|---|---|---|`,
  );
  for (const b of breakdowns)
    console.log(`| ${b.rate} alert/s | ${phase(b.phases, 'toWorker')} | ${phase(b.phases, 'session')} | ${phase(b.phases, 'executor')} |`);
  console.log(`load average: ${spawnSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).stdout.trim()}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exitCode = missed ? 2 : 0;
