#!/usr/bin/env node
// MTTR on the lab (not a test): for mps-down and router-mp-tls, the time from `remedy run` start to
// verified recovery (every Router answers 200), next to how long the MP restart itself takes.
// Uses the built code: `npm run build && node bench/mttr.mjs` (REPS=3 by default).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labBreak, labDown, labHeal, labUp } from '../dist/lab/index.js';

const ROOT = join(import.meta.dirname, '..');
const REPS = Number(process.env.REPS ?? 3);
const SCENARIOS = { 'mps-down': ['restart_region_all_down'], 'router-mp-tls': ['tls_fix.restart_mps'] };

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const work = mkdtempSync(join(tmpdir(), 'remedy-mttr-'));
chmodSync(work, 0o755);
const lab = await labUp({ dir: join(work, 'lab') });
const rows = [];
try {
  for (const [scenario, restartSteps] of Object.entries(SCENARIOS)) {
    const total = [];
    const restart = [];
    const diagnosis = [];
    for (let rep = 0; rep < REPS; rep++) {
      await labHeal(lab.dir);
      await labBreak(lab.dir, scenario);
      const dir = join(work, `${scenario}-${rep}`);
      const r = spawnSync(process.execPath, [join(ROOT, 'dist/cli/main.js'), 'run', 'apigee-502-bad-gateway', '-i', lab.inventory, '--yes', '--run-dir', dir, '--output', 'jsonl'], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${scenario}: remedy exited ${r.status}\n${r.stderr}`);
      const events = readFileSync(join(dir, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const ends = events.filter((e) => e.type === 'step-end');
      total.push(events.find((e) => e.type === 'run-end').durationMs);
      restart.push(ends.filter((e) => restartSteps.includes(e.step)).reduce((n, e) => n + e.durationMs, 0));
      const decided = events.find((e) => e.type === 'decision');
      const start = Date.parse(events.find((e) => e.type === 'run-start').time);
      diagnosis.push(Date.parse(decided.time) - start);
    }
    rows.push({ scenario, total: median(total), diagnosis: median(diagnosis), restart: median(restart) });
  }
} finally {
  await labDown(lab.dir);
  rmSync(work, { recursive: true, force: true });
}
console.log(`MTTR on the lab (median of ${REPS}; 2 Routers, 4 MPs)`);
console.log('| cause | run start → verified recovery | of which diagnosis | MP restart step itself |');
console.log('|---|---|---|---|');
for (const r of rows) console.log(`| ${r.scenario} | ${(r.total / 1000).toFixed(1)} s | ${(r.diagnosis / 1000).toFixed(1)} s | ${(r.restart / 1000).toFixed(1)} s |`);
