#!/usr/bin/env node
// Planner benchmark (not a test): plans a 50-step runbook against 1000 hosts and prints the time
// next to the target (< 1 s). Uses the built code: run `npm run bench:plan`.
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadInventory } from '../dist/inventory/index.js';
import { loadRunbook } from '../dist/runbook/index.js';
import { planRunbook } from '../dist/plan/index.js';
import { renderCommand } from '../dist/template/index.js';

const HOSTS = Number(process.env.HOSTS ?? 1000);
const STEPS = Number(process.env.STEPS ?? 50);
const REPS = Number(process.env.REPS ?? 5);
const TARGET_MS = 1000;

const dir = mkdtempSync(join(tmpdir(), 'remedy-bench-plan-'));
try {
  const regions = 4;
  const lines = ['all:', '  vars:', '    apigee_root: /opt/apigee', '    mp_mgmt_port: 8082', '  children:'];
  for (let r = 1; r <= regions; r++) {
    lines.push(`    dc_${r}:`, '      vars:', `        region: dc-${r}`, '      hosts:');
    for (let h = r; h <= HOSTS; h += regions)
      lines.push(`        mp-${String(h).padStart(4, '0')}: { ansible_host: 10.${r}.${Math.floor(h / 250)}.${h % 250} }`);
  }
  lines.push('    message_processors:', '      children:', ...Array.from({ length: regions }, (_, i) => `        dc_${i + 1}:`));
  writeFileSync(join(dir, 'inventory.yaml'), `${lines.join('\n')}\n`);

  const steps = [];
  for (let i = 0; i < STEPS; i++) {
    const kind = i % 5;
    steps.push(`  - id: step_${i}`, `    name: Step ${i}`, '    hosts: message_processors');
    if (kind === 0)
      steps.push(`    run: curl -s http://127.0.0.1:{{ mp_mgmt_port }}/v1/servers/self/up --data {{ payload }}`, '    capture:', `      up_${i}: stdout`);
    else if (kind === 1)
      steps.push(
        '    mutates: true',
        '    become: true',
        '    serial: "10%"',
        `    run: "{{ apigee_root }}/apigee-service/bin/apigee-service edge-message-processor restart"`,
      );
    else if (kind === 2) steps.push(`    when: facts.up_${i - 2} == "true"`, `    run: echo {{ facts.up_${i - 2} }} {{ host.name }} {{ region }}`);
    else if (kind === 3) steps.push('    wait:', '      run: test -f /tmp/ready', '      retries: 3', '      delay: 1s');
    else steps.push('    timeout: 30s', '    retries: 2', '    run: uptime');
  }
  const runbook = [
    'name: bench',
    'summary: benchmark',
    'params:',
    '  payload: { type: string, default: "x\'; touch /tmp/pwned; \'" }',
    'steps:',
    ...steps,
  ].join('\n');
  writeFileSync(join(dir, 'bench.yaml'), `${runbook}\n`);

  const times = [];
  let plan;
  for (let rep = 0; rep < REPS; rep++) {
    const t0 = performance.now();
    const inventory = loadInventory(join(dir, 'inventory.yaml'));
    const { loaded } = loadRunbook(join(dir, 'bench.yaml'));
    plan = planRunbook({ loaded, inventory, overrides: {} });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const commands = plan.steps.reduce((n, s) => n + s.commands.length, 0);
  console.log(`remedy plan: ${HOSTS} hosts × ${STEPS} steps → ${commands} rendered commands`);
  console.log(`| measure | remedy | target |`);
  console.log(`|---|---|---|`);
  console.log(`| median of ${REPS} (load inventory + runbook, plan) | ${median.toFixed(0)} ms | < ${TARGET_MS} ms |`);
  console.log(`| first run (cold caches) | ${Math.max(...times).toFixed(0)} ms | |`);
  console.log(`| fastest | ${times[0].toFixed(0)} ms | |`);
  // Rendering alone: the planner's inner loop (cached templates with values to quote).
  const templates = [
    '{{ apigee_root }}/apigee-service/bin/apigee-service edge-message-processor restart',
    'curl -s http://127.0.0.1:{{ port }}/v1/up --data {{ params.payload }}',
    'echo {{ facts.up }} {{ host.name }}',
  ];
  const scope = { apigee_root: '/opt/apigee', port: 8082, params: { payload: "x'; y" }, host: { name: 'mp-1' } };
  const render = [];
  for (let rep = 0; rep < REPS; rep++) {
    const t0 = performance.now();
    for (let i = 0; i < 50_000; i++) renderCommand(templates[i % 3], scope, { deferred: new Set(['facts']) });
    render.push(performance.now() - t0);
  }
  render.sort((a, b) => a - b);
  console.log(`| 50 000 cached command templates rendered, median of ${REPS} | ${render[Math.floor(render.length / 2)].toFixed(0)} ms | < 1000 ms |`);
  console.log(median < TARGET_MS ? 'target met' : 'TARGET MISSED');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
