import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ResultSink, RunRecordSink, buildResult, createRunDir, readJournal } from '../../src/journal/index.js';
import { escalatedRun, interruptedRun, refusedRun, resolvedRun, runStart, seq, unreachableRun } from './fixtures.js';

describe('buildResult', () => {
  it('resolved: outcome, cause, exit code, hosts, steps, decision and artifacts', () => {
    const r = buildResult(resolvedRun());
    expect(r).toMatchObject({
      runbook: 'apigee-502-bad-gateway',
      outcome: 'resolved',
      cause: 'mp_heap_exhausted',
      exitCode: 0,
      planHash: 'sha256:abc123',
      runId: 'r-20261124T134501Z',
      operator: 'alice',
      mode: 'unattended',
      complete: true,
      durationMs: 12000,
      startedAt: '2026-11-24T13:45:01.000Z',
      hosts: { 'mp-1': { status: 'ok' }, 'mp-2': { status: 'ok' } },
    });
    expect(r.steps.map((s) => [s.id, s.status])).toEqual([
      ['check_mp', 'ok'],
      ['diagnose', 'ok'],
      ['restart_mp', 'ok'],
      ['edit_props', 'ok'],
      ['bundle', 'ok'],
      ['done', 'ok'],
    ]);
    const restart = r.steps[2]!;
    expect(restart).toMatchObject({ name: 'Restart the message processor', mutates: true, durationMs: 8300 });
    expect(restart.hosts['mp-1']).toMatchObject({ status: 'ok', attempt: 1, changed: true, exitCode: 0 });
    expect(restart.hosts['mp-2']).toMatchObject({ status: 'skipped', reason: 'condition is false: heap is fine' });
    expect(r.decision).toMatchObject({ step: 'diagnose', cause: 'mp_heap_exhausted', evidence: { condition: 'facts.heap_pct > 90' } });
    expect(r.decision!.evidence.facts['mp-1']).toEqual({ mp_up: false, heap_pct: 97 });
    expect(r.artifacts).toEqual([
      {
        host: 'mp-1',
        step: 'bundle',
        path: 'artifacts/mp-1/system.log',
        bytes: 2048,
        sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      },
    ]);
    expect(r.message).toBeNull();
  });

  it('escalated: exit 3 with the cause that led there', () => {
    const r = buildResult(escalatedRun());
    expect(r).toMatchObject({ outcome: 'escalated', exitCode: 3, cause: 'unknown', complete: true });
    expect(r.decision!.evidence.condition).toBeNull();
  });

  it('refused: exit 5, the mutating step skipped, its message kept', () => {
    const r = buildResult(refusedRun());
    expect(r).toMatchObject({ outcome: 'refused', exitCode: 5, message: 'not approved (run with --yes to apply)' });
    expect(r.steps.find((s) => s.id === 'restart_mp')).toMatchObject({ status: 'skipped', mutates: true });
    expect(r.steps.find((s) => s.id === 'restart_mp')!.hosts['mp-1']!.status).toBe('skipped');
  });

  it('interrupted (no run-end: the controller was killed): exit 130, the running step interrupted', () => {
    const events = interruptedRun();
    const r = buildResult(events);
    expect(r).toMatchObject({ outcome: 'interrupted', exitCode: 130, complete: false, cause: 'mp_heap_exhausted' });
    expect(r.message).toMatch(/without a run-end/);
    expect(r.steps.find((s) => s.id === 'restart_mp')).toMatchObject({ status: 'interrupted' });
    expect(r.steps.find((s) => s.id === 'restart_mp')!.hosts['mp-1']!.status).toBe('started');
    // Without run-end's host table, hosts are judged from what the journal shows.
    expect(r.hosts).toEqual({ 'mp-1': { status: 'ok' }, 'mp-2': { status: 'ok' } });
    // Time: from the run-start to the last event.
    expect(r.durationMs).toBe((events.length - 1) * 100);
    expect(r.endedAt).toBe(events.at(-1)!.time);
  });

  it('unreachable: exit 4, the host counted apart from failures', () => {
    const r = buildResult(unreachableRun());
    expect(r).toMatchObject({ outcome: 'unreachable', exitCode: 4, hosts: { 'mp-1': { status: 'ok' }, 'mp-2': { status: 'unreachable' } } });
    expect(r.steps[0]).toMatchObject({ status: 'partial' });
    expect(r.steps[0]!.hosts['mp-2']).toMatchObject({ status: 'unreachable', error: 'mp-2: connect ECONNREFUSED 127.0.0.1:2222' });
    // Without the run-end table the fold reaches the same verdict.
    expect(buildResult(unreachableRun().slice(0, -1)).hosts['mp-2']!.status).toBe('unreachable');
  });

  it('a failed host without run-end is failed; a host never tried is skipped', () => {
    const r = buildResult(
      seq([
        runStart(['mp-1', 'mp-2', 'mp-3']),
        { type: 'step-start', step: 's', name: 'S', kind: 'run', mutates: false, hosts: ['mp-1', 'mp-2'] },
        { type: 'host-start', step: 's', host: 'mp-1', attempt: 1 },
        { type: 'host-end', step: 's', host: 'mp-1', status: 'timed-out', attempt: 1, exitCode: null, signal: 'SIGKILL', durationMs: 5000, final: true },
        { type: 'host-start', step: 's', host: 'mp-2', attempt: 1 },
        { type: 'host-end', step: 's', host: 'mp-2', status: 'ok', attempt: 1, exitCode: 0, signal: null, durationMs: 5, final: true },
      ]),
    );
    expect(r.hosts).toEqual({ 'mp-1': { status: 'failed' }, 'mp-2': { status: 'ok' }, 'mp-3': { status: 'skipped' } });
  });

  it('a resumed run: latest run id, all ids, time summed over segments (not the gap)', () => {
    const first = interruptedRun();
    const day = 24 * 3600 * 1000;
    const second = seq(
      [
        { ...runStart(), runId: 'r-2', resumedFrom: 'r-20261124T134501Z' },
        { type: 'host-start', step: 'restart_mp', host: 'mp-1', attempt: 1, phase: 'verify' },
        {
          type: 'host-end',
          step: 'restart_mp',
          host: 'mp-1',
          status: 'ok',
          attempt: 1,
          phase: 'verify',
          exitCode: 0,
          signal: null,
          durationMs: 100,
          final: true,
        },
        {
          type: 'step-end',
          step: 'restart_mp',
          status: 'ok',
          durationMs: 100,
          counts: { ok: 1, changed: 0, failed: 0, 'timed-out': 0, unreachable: 0, skipped: 0 },
          next: null,
        },
        { type: 'run-end', outcome: 'resolved', cause: 'mp_heap_exhausted', exitCode: 0, durationMs: 400, hosts: { 'mp-1': 'ok', 'mp-2': 'ok' } },
      ],
      first.length + 1,
      100,
      Date.parse(first[0]!.time) + day,
    );
    const r = buildResult([...first, ...second]);
    expect(r).toMatchObject({
      outcome: 'resolved',
      exitCode: 0,
      runId: 'r-2',
      runIds: ['r-20261124T134501Z', 'r-2'],
      complete: true,
      startedAt: first[0]!.time,
    });
    expect(r.durationMs).toBe((first.length - 1) * 100 + 400);
    expect(r.steps.find((s) => s.id === 'restart_mp')!.status).toBe('ok');
  });
});

describe('ResultSink', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'remedy-result-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes result.json on close, atomically (no temporary file left), equal to buildResult', async () => {
    const sink = new ResultSink(dir);
    for (const ev of resolvedRun()) sink.write(ev);
    expect(readdirSync(dir)).toEqual([]);
    await sink.close();
    expect(readdirSync(dir)).toEqual(['result.json']);
    expect(JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(buildResult(resolvedRun()))));
  });
});

describe('RunRecordSink', () => {
  let base: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'remedy-record-'));
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('keeps the journal as events arrive, and writes result.json and report.md on close', async () => {
    const dir = createRunDir({ runbook: 'rb', base });
    const record = new RunRecordSink(dir);
    const events = escalatedRun();
    for (const ev of events) record.write(ev);
    expect(readJournal(dir.path).events).toEqual(events.filter((e) => e.type !== 'host-output'));
    expect(record.result.outcome).toBe('escalated');
    await record.close();
    expect(JSON.parse(readFileSync(dir.result, 'utf8'))).toMatchObject({ outcome: 'escalated', exitCode: 3 });
    expect(readFileSync(dir.report, 'utf8')).toContain('**escalated** (exit 3)');
  });
});
