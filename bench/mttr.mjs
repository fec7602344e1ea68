#!/usr/bin/env node
// MTTR on the lab (not a test): for each scenario the time from `remedy run` start to its verdict —
// verified recovery (every Router answers 200, exit 0) for the causes the runbook fixes, the
// hand-over (exit 3) for those it escalates — next to the diagnosis and the fix step itself.
// Uses the built code: `npm run build && node bench/mttr.mjs` (REPS=3 by default).
// The lab has no background traffic, so log_window is short: an earlier scenario's 5xx must not
// count as a region failing now.
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { $ } from 'zx';
import { labBreakMany, labDown, labHeal, labUp } from '../dist/lab/index.js';

const ROOT = join(import.meta.dirname, '..');
const REPS = Number(process.env.REPS ?? 3);
const SCENARIOS = [
  { name: 'mps-down', faults: [{ scenario: 'mps-down' }], exit: 0, fixSteps: ['restart_region_all_down.restart'] },
  { name: 'router-mp-tls', faults: [{ scenario: 'router-mp-tls' }], exit: 0, fixSteps: ['tls_fix.restart_mps.restart'] },
  {
    name: 'router-truststore',
    faults: [{ scenario: 'router-truststore', hosts: ['router-1'] }],
    exit: 0,
    fixSteps: ['truststore_fix.add_ca', 'truststore_fix.restart_router'],
  },
  { name: 'mps-slow (escalated)', faults: [{ scenario: 'mp-slow', hosts: ['dc_2'] }], exit: 3, fixSteps: [] },
  {
    name: 'router-truststore router-1 + mp-slow dc_2 (truststore fixed, timeouts escalated)',
    faults: [
      { scenario: 'router-truststore', hosts: ['router-1'] },
      { scenario: 'mp-slow', hosts: ['dc_2'] },
    ],
    exit: 3,
    fixSteps: ['truststore_fix.add_ca', 'truststore_fix.restart_router'],
  },
  {
    name: 'mps-down mp-1,mp-2 + backend-error (MPs fixed, backend escalated)',
    faults: [{ scenario: 'mps-down', hosts: ['mp-1', 'mp-2'] }, { scenario: 'backend-error' }],
    exit: 3,
    fixSteps: ['restart_region_all_down.restart'],
  },
];
const EXTRA = ['-e', 'log_window=2s', '-e', 'verify_timeout=30s'];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const work = mkdtempSync(join(tmpdir(), 'remedy-mttr-'));
chmodSync(work, 0o755);
const lab = await labUp({ dir: join(work, 'lab') });
const rows = [];
try {
  for (const { name, faults, exit, fixSteps } of SCENARIOS) {
    const total = [];
    const restart = [];
    const diagnosis = [];
    for (let rep = 0; rep < REPS; rep++) {
      await labHeal(lab.dir);
      await labBreakMany(lab.dir, faults);
      const dir = join(work, `${faults.map((f) => f.scenario).join('+')}-${rep}`);
      const r = await $({
        quiet: true,
        nothrow: true,
      })`${process.execPath} ${join(ROOT, 'dist/cli/main.js')} run apigee-502-bad-gateway -i ${lab.inventory} --yes --run-dir ${dir} --output jsonl ${EXTRA}`;
      if (r.exitCode !== exit) throw new Error(`${name}: remedy exited ${r.exitCode}, expected ${exit}\n${r.stderr}`);
      const events = readFileSync(join(dir, 'journal.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const ends = events.filter((e) => e.type === 'step-end');
      total.push(events.find((e) => e.type === 'run-end').durationMs);
      restart.push(ends.filter((e) => fixSteps.includes(e.step)).reduce((n, e) => n + e.durationMs, 0));
      const decided = events.find((e) => e.type === 'decision');
      const start = Date.parse(events.find((e) => e.type === 'run-start').time);
      diagnosis.push(Date.parse(decided.time) - start);
    }
    rows.push({ scenario: name, exit, total: median(total), diagnosis: median(diagnosis), restart: median(restart) });
  }
} finally {
  await labDown(lab.dir);
  rmSync(work, { recursive: true, force: true });
}
console.log(`MTTR on the lab (median of ${REPS}; 2 Routers, 4 MPs; load average at the end ${loadavg()[0].toFixed(1)})`);
console.log('| scenario | exit | run start → verdict (verified recovery for exit 0) | of which diagnosis | the fix steps themselves |');
console.log('|---|---|---|---|---|');
for (const r of rows)
  console.log(`| ${r.scenario} | ${r.exit} | ${(r.total / 1000).toFixed(1)} s | ${(r.diagnosis / 1000).toFixed(1)} s | ${(r.restart / 1000).toFixed(1)} s |`);
