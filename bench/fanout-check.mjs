#!/usr/bin/env node
// Validation of one bench/fanout run, outside the timed region: did every host run every step
// with exit code 0? Prints "ok" or the reason; exit 0 when valid.
//
//   node bench/fanout-check.mjs remedy  RUN_DIR N K   (journal.jsonl + result.json of the run)
//   node bench/fanout-check.mjs ansible LOG N K       (PLAY RECAP: ok=K … failed=0 for N hosts)
//   node bench/fanout-check.mjs pssh    LOG N K       (K×N "[SUCCESS]" lines)
//   node bench/fanout-check.mjs bashcm  LOG N K       (the loop's "execs-ok=" line)
//   node bench/fanout-check.mjs ssh2    LOG N K       (ssh2-raw's JSON "execsOk")
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [tool, where, nArg, kArg] = process.argv.slice(2);
const N = Number(nArg);
const K = Number(kArg);
const expected = N * K;

function fail(reason) {
  console.log(reason);
  process.exit(1);
}

function checkRemedy(dir) {
  const journal = join(dir, 'journal.jsonl');
  if (!existsSync(journal)) fail(`no journal in ${dir}`);
  let okHostEnds = 0;
  let runEnd;
  const hostsSeen = new Set();
  for (const line of readFileSync(journal, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const e = JSON.parse(line);
    if (e.type === 'host-end') {
      if (e.status === 'ok' && e.exitCode === 0) {
        okHostEnds++;
        hostsSeen.add(e.host);
      } else fail(`host-end not ok: ${e.host} ${e.step} status=${e.status} exit=${e.exitCode} ${e.error ?? ''}`);
    }
    if (e.type === 'run-end') runEnd = e;
  }
  if (!runEnd) fail('no run-end in the journal');
  if (runEnd.exitCode !== 0) fail(`run-end exitCode ${runEnd.exitCode} (${runEnd.outcome}: ${runEnd.message ?? ''})`);
  if (okHostEnds !== expected || hostsSeen.size !== N) fail(`${okHostEnds} ok host-ends on ${hostsSeen.size} hosts, expected ${expected} on ${N}`);
  const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
  const statuses = Object.values(result.hosts ?? {}).map((h) => h.status);
  if (statuses.length !== N || statuses.some((s) => s !== 'ok')) fail(`result.json hosts: ${JSON.stringify(result.hosts).slice(0, 200)}`);
}

function checkLog(kind, log) {
  const text = readFileSync(log, 'utf8');
  if (kind === 'ansible') {
    const recap = text.slice(text.lastIndexOf('PLAY RECAP'));
    const good = recap.split('\n').filter((l) => new RegExp(`\\bok=${K}\\b.*\\bunreachable=0\\b.*\\bfailed=0\\b`).test(l)).length;
    if (good !== N) fail(`ansible recap: ${good} hosts with ok=${K} failed=0, expected ${N}`);
  } else if (kind === 'pssh') {
    const good = (text.match(/\[SUCCESS\]/g) ?? []).length;
    if (good !== expected) fail(`pssh: ${good} [SUCCESS], expected ${expected}`);
  } else if (kind === 'bashcm') {
    const m = text.match(/^execs-ok=(\d+)$/m);
    if (!m || Number(m[1]) !== expected) fail(`bashcm: execs-ok=${m?.[1] ?? '?'}, expected ${expected}`);
  } else if (kind === 'ssh2') {
    const m = text.match(/"execsOk":(\d+)/);
    if (!m || Number(m[1]) !== expected) fail(`ssh2-raw: execsOk=${m?.[1] ?? '?'}, expected ${expected}`);
  } else fail(`unknown tool ${kind}`);
}

if (tool === 'remedy') checkRemedy(where);
else checkLog(tool, where);
console.log('ok');
