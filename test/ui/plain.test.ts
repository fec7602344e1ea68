import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/redact/redactor.js';
import { colorEnabled } from '../../src/ui/format.js';
import { computeRecap, createConsoleSink, JsonlSink, PlainSink, renderRecap } from '../../src/ui/index.js';
import { SECRET, resolvedRun, runStart, seq, unreachableRun } from '../journal/fixtures.js';
import { Capture, asTty } from './helpers.js';

const ESC = '\x1b[';

describe('PlainSink', () => {
  it('prints one line per step start/end, host end, decision, approval, outcome and run end', async () => {
    const out = new Capture();
    const sink = new PlainSink(out);
    for (const ev of resolvedRun()) sink.write(ev);
    await sink.close();
    const lines = out.text.trimEnd().split('\n');
    expect(out.text).not.toContain(ESC);
    expect(lines[0]).toBe(
      '13:45:01 run apigee-502-bad-gateway plan sha256:abc123 · 2 hosts · unattended · operator alice · runs/20261124T134501Z-apigee-502-bad-gateway',
    );
    expect(lines).toContain('13:45:01 step check_mp start "Check message processors" on 2 hosts');
    expect(lines).toContain('13:45:01   mp-1 check_mp: ok (exit 0, 420ms)');
    expect(lines).toContain('13:45:01 step check_mp ok in 450ms (ok 2)');
    expect(lines).toContain('13:45:01 decision diagnose: cause mp_heap_exhausted because facts.heap_pct > 90');
    expect(lines).toContain('13:45:02 step restart_mp start "Restart the message processor" on 1 host [mutates]');
    expect(lines).toContain('13:45:02   mp-2 restart_mp: skipped (0ms) — condition is false: heap is fine');
    expect(lines).toContain('13:45:02 approval restart_mp: approved by alice (flag) for mp-1');
    expect(lines).toContain('13:45:02   mp-1 restart_mp: failed (exit 1, 2.1s, not final) — exit code 1');
    expect(lines).toContain('13:45:02   mp-1 restart_mp: changed (exit 0, 5.3s, attempt 2, not final)');
    expect(lines).toContain('13:45:03   mp-1 restart_mp: ok (exit 0, 800ms, verify)');
    expect(lines).toContain('13:45:04 outcome done: resolved: mp-1 restarted with more heap; 502s stopped');
    expect(lines.at(-1)).toBe('13:45:04 end resolved (exit 0) in 12.0s · cause mp_heap_exhausted');
    // Live output and host starts are not printed: the run directory has them.
    expect(out.text).not.toContain('Stopping edge-message-processor');
    expect(lines.filter((l) => l.includes('mp-1 check_mp'))).toHaveLength(1);
  });

  it("an approval line carries the operator's comment when there is one", () => {
    const out = new Capture();
    const sink = new PlainSink(out);
    for (const ev of seq([
      {
        type: 'approval',
        step: 'restart',
        decision: 'refused',
        source: 'operator',
        operator: 'bob',
        hosts: ['mp-2'],
        planHash: 'h',
        batch: 2,
        comment: 'mp-2 serves payments until 22:00',
      },
    ]))
      sink.write(ev);
    expect(out.text.trimEnd()).toBe('13:45:01 approval restart: refused by bob (operator) batch 2 for mp-2: "mp-2 serves payments until 22:00"');
  });

  it('colours only when asked, and NO_COLOR wins over a TTY', async () => {
    const out = new Capture();
    const sink = new PlainSink(out, { color: true });
    for (const ev of unreachableRun()) sink.write(ev);
    expect(out.text).toContain(ESC);
    expect(out.plain).toContain('mp-2 check_mp: unreachable (10.0s) — mp-2: connect ECONNREFUSED 127.0.0.1:2222');
    expect(colorEnabled({ isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ isTTY: false }, {})).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
  });
});

describe('JsonlSink', () => {
  it('writes every event, host-output included, one JSON object per line', async () => {
    const out = new Capture();
    const sink = new JsonlSink(out);
    const events = resolvedRun();
    for (const ev of events) sink.write(ev);
    await sink.close();
    const parsed = out.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(parsed).toEqual(events);
  });
});

describe('recap', () => {
  it('counts each host’s final result per step, Ansible-style (ok includes changed)', () => {
    const recap = computeRecap(resolvedRun());
    expect(recap.hosts.get('mp-1')).toEqual({ ok: 4, changed: 2, failed: 0, unreachable: 0, skipped: 0, final: 'ok' });
    expect(recap.hosts.get('mp-2')).toEqual({ ok: 1, changed: 0, failed: 0, unreachable: 0, skipped: 1, final: 'ok' });
    const text = renderRecap(recap);
    expect(text).toBe(
      [
        'RECAP apigee-502-bad-gateway · resolved (exit 0) in 12.0s',
        'mp-1  : ok=4   changed=2   unreachable=0   failed=0   skipped=0   ok',
        'mp-2  : ok=1   changed=0   unreachable=0   failed=0   skipped=1   ok',
        '',
      ].join('\n'),
    );
    // A host that failed, then passed when retried at the operator's request, counts once, as it ended.
    const retried = computeRecap(
      seq([
        runStart(['mp-1']),
        { type: 'host-end', step: 's', host: 'mp-1', status: 'failed', attempt: 1, exitCode: 1, signal: null, durationMs: 1, final: true },
        { type: 'host-end', step: 's', host: 'mp-1', status: 'ok', attempt: 1, exitCode: 0, signal: null, durationMs: 1, final: true },
      ]),
    );
    expect(retried.hosts.get('mp-1')).toMatchObject({ ok: 1, failed: 0, final: null });
    const down = computeRecap(unreachableRun());
    expect(down.hosts.get('mp-2')).toMatchObject({ unreachable: 1, ok: 0, final: 'unreachable' });
  });
});

describe('createConsoleSink', () => {
  it('jsonl: redacts again as a second line of defence', async () => {
    const out = new Capture();
    const sink = createConsoleSink({ output: 'jsonl', tty: true, stream: asTty(out), redactor: new Redactor([SECRET]) });
    sink.write(seq([{ type: 'warning', message: `leaked ${SECRET}` }])[0]!);
    await sink.close();
    expect(out.text).not.toContain(SECRET);
    expect(JSON.parse(out.text)).toMatchObject({ type: 'warning', message: 'leaked ********' });
    expect(out.text).not.toContain('RECAP');
  });

  it('text without a TTY: plain lines, then the recap', async () => {
    const out = new Capture();
    const sink = createConsoleSink({ output: 'text', tty: false, stream: asTty(out), redactor: new Redactor([SECRET]), color: false });
    const events = resolvedRun();
    events.splice(3, 0, seq([{ type: 'warning', step: 'check_mp', message: `pw ${SECRET}` }], 100)[0]!);
    for (const ev of events) sink.write(ev);
    await sink.pause(); // no-op for plain output
    sink.resume();
    await sink.close();
    expect(out.text).not.toContain(SECRET);
    expect(out.text).toContain('warning check_mp: pw ********');
    expect(out.text).toMatch(/end resolved \(exit 0\) in 12\.0s · cause mp_heap_exhausted\n\nRECAP apigee-502-bad-gateway/);
    expect(out.text).not.toContain(ESC);
  });
});
