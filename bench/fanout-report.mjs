#!/usr/bin/env node
// The report of bench/fanout: reads results.csv (one row per run) and prints Markdown tables of
// medians and ratios, then checks the targets of issue 3 (against the other tools) and of issue 13
// (remedy against raw ssh2, side by side). Exit 0 when every target is met, 2 when one is missed
// or cannot be computed.
//   node bench/fanout-report.mjs results.csv [--big-n 500] [--huge-n 1000] [--profile file.cpuprofile]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { summarizeProfile } from './fanout-profile.mjs';

const TOOL_NAMES = {
  remedy: 'remedy',
  ssh2: 'raw ssh2',
  bashcm: 'ControlMaster loop',
  pssh: 'parallel-ssh',
  ansible: 'ansible (pipelining)',
};
const TARGET_RATIO_SSH2 = 1.3;
const TARGET_RSS_MB = 150;
// Issue 13: remedy against the raw ssh2 script of the same run.
const TARGET_WALL_100 = 1.1;
const TARGET_WALL_10 = 1.3;
const TARGET_CPU_100 = 1.5;
const TARGET_PER_STEP = 1.2;
const TARGET_FIRST_CONNECT_MS = 150;

const { values: opt, positionals } = parseArgs({
  options: { 'big-n': { type: 'string' }, 'huge-n': { type: 'string' }, profile: { type: 'string' } },
  allowPositionals: true,
});
const csvPath = positionals[0];
const profilePath = opt.profile || undefined;
const [header, ...lines] = readFileSync(csvPath, 'utf8').trim().split('\n');
const cols = header.split(',');
const rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
const valid = rows.filter((r) => r.valid === '1');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? undefined : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const pick = (tool, runbook, n, field = 'wall_s') =>
  valid.filter((r) => r.tool === tool && r.runbook === runbook && Number(r.n) === n).map((r) => Number(r[field]));
const med = (tool, runbook, n, field) => median(pick(tool, runbook, n, field));
const fmt = (x, digits = 2) => (x === undefined ? '–' : x.toFixed(digits));
const range = (xs) => (xs.length > 1 ? ` (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})` : '');

const tools = Object.keys(TOOL_NAMES).filter((t) => rows.some((r) => r.tool === t));
const mainNs = [...new Set(rows.filter((r) => r.runbook === 'w').map((r) => Number(r.n)))].sort((a, b) => a - b);
// The single large-fleet run (controller RSS) is reported apart from the timed matrix.
const bigN = Number(opt['big-n'] ?? 0) || undefined;
const hugeN = Number(opt['huge-n'] ?? 0) || undefined;
const matrixNs = mainNs.filter((n) => n !== bigN && n !== hugeN);
const reps = Math.max(0, ...rows.map((r) => Number(r.rep)));
const out = [];
const loads = rows.map((r) => Number(r.load1)).filter((x) => Number.isFinite(x));
if (loads.length) {
  out.push(
    `Box load during the runs (1-minute load average at each run's start): median ${fmt(median(loads))}, ${fmt(Math.min(...loads))}–${fmt(Math.max(...loads))}; ${rows.length} runs. The tools and the "remote hosts" share this machine's CPUs, so other work on it slows every column.`,
    '',
  );
}

out.push(`### Fan-out: 5-step read-only runbook on N hosts (median wall s of ${reps} run${reps === 1 ? '' : 's'}, min–max; ratio = tool / remedy)`, '');
out.push(`| N | ${tools.map((t) => TOOL_NAMES[t]).join(' | ')} |`, `|---|${tools.map(() => '---').join('|')}|`);
for (const n of matrixNs) {
  const base = med('remedy', 'w', n);
  const cells = tools.map((t) => {
    const xs = pick(t, 'w', n);
    const m = median(xs);
    if (m === undefined) return '–';
    const ratio = base && t !== 'remedy' ? ` **${(m / base).toFixed(2)}×**` : '';
    return `${fmt(m)}${range(xs)}${ratio}`;
  });
  out.push(`| ${n} | ${cells.join(' | ')} |`);
}

out.push('', '### Controller: peak RSS (MiB, `/usr/bin/time -v` maximum resident set size: the largest single process) and CPU (user+sys s), medians', '');
out.push(`| N | ${tools.map((t) => TOOL_NAMES[t]).join(' | ')} |`, `|---|${tools.map(() => '---').join('|')}|`);
for (const n of mainNs) {
  const cells = tools.map((t) => {
    const rss = med(t, 'w', n, 'maxrss_kb');
    if (rss === undefined) return '–';
    const cpu = median(valid.filter((r) => r.tool === t && r.runbook === 'w' && Number(r.n) === n).map((r) => Number(r.user_s) + Number(r.sys_s)));
    return `${fmt(rss / 1024, rss >= 100 * 1024 ? 1 : 0)} MiB, ${fmt(cpu)} s`;
  });
  out.push(`| ${n}${n === bigN || n === hugeN ? ' (1 run)' : ''} | ${cells.join(' | ')} |`);
}

// Per-step latency on one host: a 5-step and a 50-step runbook of `true`; the slope between them
// removes start-up, connection and teardown, leaving the cost of one more step.
const hasPerStep = rows.some((r) => r.runbook === 'true50');
const slope = {};
if (hasPerStep) {
  out.push('', '### Per-step latency on one host (N=1, `true` steps): slope = (T50 − T5) / 45', '');
  out.push('| tool | T(5 steps) s | T(50 steps) s | per-step latency |', '|---|---|---|---|');
  for (const t of tools) {
    const t5 = med(t, 'true5', 1);
    const t50 = med(t, 'true50', 1);
    if (t5 === undefined || t50 === undefined) continue;
    slope[t] = ((t50 - t5) / 45) * 1000;
    out.push(`| ${TOOL_NAMES[t]} | ${fmt(t5, 3)} | ${fmt(t50, 3)}${range(pick(t, 'true50', 1))} | **${fmt(slope[t], 1)} ms** |`);
  }
}

out.push('', '### Targets', '');
let missed = 0;
const target = (ok, text) => {
  if (ok === undefined) {
    missed++;
    out.push(`- TARGET NOT MEASURED: ${text}`);
  } else {
    if (!ok) missed++;
    out.push(`- ${ok ? 'target met' : 'TARGET MISSED'}: ${text}`);
  }
};
const topN = matrixNs.includes(100) ? 100 : matrixNs.at(-1);
const r100 = med('remedy', 'w', topN);
const s100 = med('ssh2', 'w', topN);
const ratio = r100 !== undefined && s100 !== undefined ? r100 / s100 : undefined;
target(
  ratio === undefined ? undefined : ratio <= TARGET_RATIO_SSH2,
  `remedy ≤ ${TARGET_RATIO_SSH2}× raw ssh2 at N=${topN}: ${fmt(r100)} s / ${fmt(s100)} s = ${fmt(ratio)}×`,
);
const rs = slope.remedy;
const bs = slope.bashcm;
target(
  rs === undefined || bs === undefined ? undefined : rs <= bs,
  `per-step latency on one host no worse than the ControlMaster loop: remedy ${fmt(rs, 1)} ms vs ${fmt(bs, 1)} ms`,
);
const bigRss = bigN ? med('remedy', 'w', bigN, 'maxrss_kb') : undefined;
target(
  bigRss === undefined ? undefined : bigRss / 1024 <= TARGET_RSS_MB,
  `controller peak RSS ≤ ${TARGET_RSS_MB} MiB at ${bigN ?? 500} hosts: ${fmt(bigRss === undefined ? undefined : bigRss / 1024, 1)} MiB (${bigRss ?? '–'} KiB)`,
);

// Issue 13, side by side: remedy and the raw ssh2 script of this same run, with the ratio.
const cpuOf = (tool, n) =>
  median(valid.filter((r) => r.tool === tool && r.runbook === 'w' && Number(r.n) === n).map((r) => Number(r.user_s) + Number(r.sys_s)));
// Start-up to the first SSH connection (bench/fanout-tools/first-connect.mjs), over the one-host
// runs: Node start-up, module loading and the command's own work before it connects.
const firstOf = (tool, field) => {
  const ones = valid.filter((r) => r.tool === tool && Number(r.n) === 1 && r[field] !== undefined && r[field] !== '');
  return median(ones.map((r) => Number(r[field])));
};
const side = [];
let missed13 = 0;
const sideRow = (what, rem, raw, digits, unit, goal, ok) => {
  const ratioText = rem !== undefined && raw !== undefined && raw > 0 ? `${(rem / raw).toFixed(2)}×` : '–';
  let verdict = 'reported';
  if (ok !== undefined) {
    const met = ok(rem, raw);
    if (met === undefined) verdict = 'NOT MEASURED';
    else verdict = met ? 'met' : 'MISSED';
    if (met !== true) missed13++;
  }
  const cell = (x) => (x === undefined ? '–' : `${fmt(x, digits)}${unit}`);
  side.push(`| ${what} | ${cell(rem)} | ${cell(raw)} | ${ratioText} | ${goal} | ${verdict} |`);
};
const ratioAtMost = (limit) => (a, b) => (a === undefined || b === undefined ? undefined : a / b <= limit);
sideRow('wall time, N=100', med('remedy', 'w', 100), med('ssh2', 'w', 100), 2, ' s', `≤ ${TARGET_WALL_100}×`, ratioAtMost(TARGET_WALL_100));
sideRow('wall time, N=10', med('remedy', 'w', 10), med('ssh2', 'w', 10), 2, ' s', `≤ ${TARGET_WALL_10}×`, ratioAtMost(TARGET_WALL_10));
sideRow('controller CPU (user+sys), N=100', cpuOf('remedy', 100), cpuOf('ssh2', 100), 2, ' s', `≤ ${TARGET_CPU_100}×`, ratioAtMost(TARGET_CPU_100));
sideRow('per-step latency, N=1', slope.remedy, slope.ssh2, 1, ' ms', `≤ ${TARGET_PER_STEP}×`, ratioAtMost(TARGET_PER_STEP));
sideRow(
  'start-up to the first SSH connection (wall)',
  firstOf('remedy', 'first_ms'),
  firstOf('ssh2', 'first_ms'),
  0,
  ' ms',
  `≤ ${TARGET_FIRST_CONNECT_MS} ms`,
  (a) => (a === undefined ? undefined : a <= TARGET_FIRST_CONNECT_MS),
);
sideRow(
  'start-up to the first SSH connection (CPU)',
  firstOf('remedy', 'first_cpu_ms'),
  firstOf('ssh2', 'first_cpu_ms'),
  0,
  ' ms',
  'the idle-box cost',
  undefined,
);
if (hugeN) {
  sideRow(`wall time, N=${hugeN} (1 run)`, med('remedy', 'w', hugeN), med('ssh2', 'w', hugeN), 2, ' s', '–', undefined);
  const rssMiB = (t) => {
    const kb = med(t, 'w', hugeN, 'maxrss_kb');
    return kb === undefined ? undefined : kb / 1024;
  };
  sideRow(`controller peak RSS, N=${hugeN}`, rssMiB('remedy'), rssMiB('ssh2'), 1, ' MiB', '–', undefined);
  sideRow(`controller CPU (user+sys), N=${hugeN}`, cpuOf('remedy', hugeN), cpuOf('ssh2', hugeN), 2, ' s', '–', undefined);
}
out.push('', '### remedy against raw ssh2, side by side (issue 13; medians of this run)', '');
out.push('| measure | remedy | raw ssh2 | ratio | target | |', '|---|---|---|---|---|---|', ...side);
out.push(
  '',
  'Start-up is measured from the process start to its first TCP connection, over the one-host runs; the CPU row is user+sys up to that point, which is what start-up costs on an idle machine.',
);
missed += missed13;

const invalid = rows.length - valid.length;
if (invalid > 0) out.push('', `${invalid} run(s) failed validation and are left out of every median.`);
if (profilePath) out.push('', ...summarizeProfile(profilePath));

console.log(out.join('\n'));
process.exit(missed === 0 ? 0 : 2);
