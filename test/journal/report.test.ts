import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { register } from '../../src/cli/commands/report.js';
import type { RunEvent } from '../../src/engine/events.js';
import { createRunDir, loadReport, renderReport, writeReport, type RunDir } from '../../src/journal/index.js';
import { interruptedRun, refusedRun, resolvedRun, seq } from './fixtures.js';

let base: string;
let dir: RunDir;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'remedy-report-'));
  dir = createRunDir({ runbook: 'apigee-502-bad-gateway', base });
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

function writeJournal(events: RunEvent[], tail = ''): void {
  writeFileSync(
    dir.journal,
    events
      .filter((e) => e.type !== 'host-output')
      .map((e) => `${JSON.stringify(e)}\n`)
      .join('') + tail,
  );
}

const HOSTILE = '<script>alert("x")</script>';

/** The resolved run, plus a warning and an artifact path carrying markup. */
function hostileRun(): RunEvent[] {
  const events = resolvedRun();
  const end = events.pop()!;
  const extra = seq([{ type: 'warning', step: 'bundle', host: 'mp-1', message: `log line: ${HOSTILE} & more` }], end.seq);
  return [...events, ...extra, { ...end, seq: end.seq + 1 }];
}

describe('report', () => {
  it('markdown: header, diagnosis with evidence, timeline, approvals, changes, artifacts, warnings, outcome', () => {
    writeJournal(resolvedRun());
    writeFileSync(dir.plan, JSON.stringify({ summary: 'Diagnose and fix 502s from Apigee', steps: [] }));
    writeFileSync(join(dir.artifacts, 'system.log'), 'x');
    const md = renderReport(loadReport(dir.path), 'markdown');
    expect(md).toMatch(/^# remedy run: apigee-502-bad-gateway/);
    expect(md).toContain('> Diagnose and fix 502s from Apigee');
    expect(md).toContain('| Outcome | **resolved** (exit 0) |');
    expect(md).toContain('| Cause | `mp_heap_exhausted` |');
    expect(md).toContain('| Plan hash | `sha256:abc123` |');
    expect(md).toContain('| Duration | 12.0s |');
    expect(md).toContain('alice (user alice on ops-1)');
    expect(md).toContain('## Diagnosis');
    expect(md).toContain('- Matched condition: `facts.heap_pct > 90`');
    expect(md).toMatch(/\| mp-1 \| mp\\_up=`false`, heap\\_pct=`97` \|/);
    expect(md).toContain('### 2. Diagnose (`diagnose`): ok in 3ms\n\nCause: `mp_heap_exhausted`');
    expect(md).toContain('### 3. Restart the message processor (`restart_mp`): ok in 8.3s · **mutates**');
    // Each attempt is a row: the failed first try, the retry that changed, the verification.
    expect(md).toMatch(/\| mp-1 \| \*\*failed\*\* \| 1 \| 2\.1s \| 1 \|/);
    expect(md).toMatch(/\| mp-1 \| \*\*changed\*\* \| 0 \| 5\.3s \| 2 \|/);
    expect(md).toMatch(/\| mp-1 \| \*\*ok\*\* \| 0 \| 800ms \| 1, verify \|/);
    expect(md).toMatch(/\| mp-2 \| \*\*skipped\*\* .*condition is false: heap is fine/);
    expect(md).toContain('## Approvals');
    expect(md).toMatch(/\| `restart_mp` \| \*\*approved\*\* \| flag \| alice \| mp-1 \|/);
    expect(md).toContain('## What changed');
    expect(md).toContain('-max_heap=1g\n+max_heap=2g');
    expect(md).toMatch(
      /\| mp-1 \| `bundle` \| \[artifacts\/mp-1\/system\.log\]\(artifacts\/mp-1\/system\.log\) \(missing or changed on disk\) \| 2\.0 KiB \| `e3b0c4/,
    );
    expect(md).toContain('## Host locks');
    expect(md).toContain('- Outcome step `done`: **resolved**: mp-1 restarted with more heap; 502s stopped');
    expect(md).toContain('- Run: **resolved**, exit code 0, cause `mp_heap_exhausted`.');
  });

  it("an outcome step's claim the run did not keep is shown overruled, in Markdown and HTML", () => {
    // The outcome step said resolved, but the run ended escalated (a host left unremediated).
    const events = resolvedRun().map((e) => (e.type === 'run-end' ? { ...e, outcome: 'escalated' as const, exitCode: 3 } : e));
    writeJournal(events);
    const md = renderReport(loadReport(dir.path), 'markdown');
    expect(md).toContain("- Outcome step `done`: claimed resolved, overruled by the run's verdict below: mp-1 restarted");
    expect(md).not.toContain('- Outcome step `done`: **resolved**');
    expect(md).toContain('- Run: **escalated**, exit code 3');
    const html = renderReport(loadReport(dir.path), 'html');
    expect(html).toContain("claimed resolved, overruled by the run's verdict below: mp-1 restarted");
  });

  it('markdown for a refused run shows what would have run; for a killed controller, the unfinished host', () => {
    writeJournal(refusedRun());
    const refused = renderReport(loadReport(dir.path), 'markdown');
    expect(refused).toMatch(/\*\*refused\*\* \(exit 5\)/);
    expect(refused).toContain('Would have run at `restart_mp` (refused):');
    expect(refused).toContain('mp-1: apigee-service edge-message-processor restart');
    expect(refused).toContain('Nothing was changed on any host.');

    const events = interruptedRun();
    const last = JSON.stringify(seq([{ type: 'host-output', step: 'x', host: 'y', stream: 'stdout', line: 'z' }], 99)[0]);
    writeJournal(events, last.slice(0, 20));
    const killed = renderReport(loadReport(dir.path), 'markdown');
    expect(killed).toMatch(/\*\*interrupted\*\* \(exit 130\)/);
    expect(killed).toContain('the journal ends without a run-end event');
    expect(killed).toMatch(/line \d+: partial last line/);
    expect(killed).toContain('| mp-1 | **started, not finished** |');
  });

  it('html: one self-contained file, every value escaped', () => {
    writeJournal(hostileRun());
    const html = renderReport(loadReport(dir.path), 'html');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<style>');
    expect(html).not.toMatch(/<link/i);
    expect(html).not.toMatch(/src="http/i);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/@import|url\(/i);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more');
    expect(html).toContain('<span class="diff-add">+max_heap=2g</span>');
    expect(html).toContain('class="st st-resolved">resolved</span>');
    expect(html).toContain('Restart the message processor');
  });

  it('markdown escapes markup in values too (viewers render raw HTML)', () => {
    writeJournal(hostileRun());
    const md = renderReport(loadReport(dir.path), 'markdown');
    expect(md).not.toContain('<script');
    expect(md).toContain('&lt;script&gt;');
  });

  it('json: the result and the timeline', () => {
    writeJournal(resolvedRun());
    const json = JSON.parse(renderReport(loadReport(dir.path), 'json')) as {
      result: { outcome: string; exitCode: number };
      timeline: { id: string; hosts: { host: string; attempts: unknown[] }[] }[];
    };
    expect(json.result).toMatchObject({ outcome: 'resolved', exitCode: 0 });
    expect(json.timeline.map((s) => s.id)).toEqual(['check_mp', 'diagnose', 'restart_mp', 'edit_props', 'bundle', 'done']);
    expect(json.timeline[2]!.hosts.find((h) => h.host === 'mp-1')!.attempts).toHaveLength(3);
  });

  it('writeReport writes report.md in the run directory', () => {
    writeJournal(resolvedRun());
    const path = writeReport(dir.path);
    expect(path).toBe(dir.report);
    expect(readFileSync(dir.report, 'utf8')).toContain('# remedy run: apigee-502-bad-gateway');
  });
});

describe('remedy report (command)', () => {
  async function runCli(args: string[]): Promise<{ code: number | undefined; out: string }> {
    const program = new Command('remedy').exitOverride();
    register(program);
    let out = '';
    const write = process.stdout.write.bind(process.stdout);
    const writeErr = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stderr.write;
    const before = process.exitCode;
    try {
      await program.parseAsync(['node', 'remedy', ...args]);
      return { code: process.exitCode as number | undefined, out };
    } finally {
      process.stdout.write = write;
      process.stderr.write = writeErr;
      process.exitCode = before;
    }
  }

  it('prints markdown by default and writes HTML to --output', async () => {
    writeJournal(resolvedRun());
    const md = await runCli(['report', dir.path]);
    expect(md.code).toBe(0);
    expect(md.out).toContain('# remedy run: apigee-502-bad-gateway');
    const file = join(base, 'incident.html');
    const html = await runCli(['report', dir.path, '--format', 'html', '--output', file]);
    expect(html.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/^<!doctype html>/);
  });

  it('exits 64 with a clear message for a directory that is not a run', async () => {
    const r = await runCli(['report', join(base, 'nothing-here')]);
    expect(r.code).toBe(64);
    expect(r.out).toContain('no such run directory');
    expect(r.out).not.toMatch(/\n\s+at /); // no stack trace
  });
});
