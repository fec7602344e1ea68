// The live view, drawn by listr2's default renderer into a captured "terminal". Each step's
// last frame stays on screen when the step ends; those frames are what these tests read.
import { describe, expect, it } from 'vitest';
import { ListrView, createConsoleSink } from '../../src/ui/index.js';
import { backendEscalatedRun, counts, resolvedRun, runStart, seq, unreachableRun } from '../journal/fixtures.js';
import { Capture, asTty } from './helpers.js';

function view(out: Capture): ListrView {
  return new ListrView({ stream: asTty(out), color: false, lazy: true });
}

/** Resolves to true if `p` settles within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
}

describe('ListrView', () => {
  it('draws steps × hosts with statuses, durations, notes and mutating marks', async () => {
    const out = new Capture(true);
    const v = view(out);
    for (const ev of resolvedRun()) v.write(ev);
    await v.close();
    const text = out.plain;
    expect(text).toContain('run apigee-502-bad-gateway plan sha256:abc123');
    expect(text).toContain('✔ Check message processors [check_mp] — ok 450ms');
    expect(text).toContain('  ✔ mp-1 ok 420ms');
    expect(text).toContain('  ✔ mp-2 ok 380ms');
    // Under its step a decision is its cause, in the title: the decision panel already showed the condition.
    expect(text).toContain('✔ Diagnose [diagnose] — ok 3ms · cause mp_heap_exhausted');
    expect(text).not.toContain('› cause');
    // Lock bookkeeping stays out of the way (the journal has it; --verbose shows it).
    expect(text).not.toMatch(/lock mp-1 (acquired|released)/);
    expect(text).toContain('✔ Restart the message processor [restart_mp] ⚑ mutates — ok 8.3s');
    expect(text).toContain('› approval restart_mp: approved by alice (flag) for mp-1');
    expect(text).toContain('  ✔ mp-1 ok 8.2s (verify)');
    expect(text).toContain('  ↓ mp-2 skipped: condition is false: heap is fine');
    expect(text).toContain('› outcome done: resolved: mp-1 restarted with more heap; 502s stopped');
    expect(text.trimEnd().split('\n').at(-1)).toBe('end resolved (exit 0) in 12.0s · cause mp_heap_exhausted');
    // Steps are drawn in order.
    const order = ['[check_mp]', '[diagnose]', '[restart_mp]', '[edit_props]', '[bundle]', '[done]'].map((s) => text.lastIndexOf(s));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('skipped branches are one line; --verbose shows lock lines', async () => {
    const out = new Capture(true);
    const v = view(out);
    for (const ev of backendEscalatedRun()) v.write(ev);
    await v.close();
    expect(out.plain).toContain('skipped: 2 steps of other causes (restart_down_mps, verify_routers)');
    expect(out.plain).not.toContain('condition is false');
    const verbose = new Capture(true);
    const vv = new ListrView({ stream: asTty(verbose), color: false, lazy: true, verbose: true });
    for (const ev of resolvedRun()) vv.write(ev);
    await vv.close();
    expect(verbose.plain).toMatch(/lock mp-1 acquired/);
  });

  it('a long run of skipped steps stays one row: the ids that fit, the rest counted', async () => {
    const out = new Capture(true);
    const v = view(out);
    const ids = Array.from({ length: 19 }, (_, i) => `busy_dumps.step_${i}`);
    for (const ev of seq([
      runStart(['mp-1']),
      ...ids.map((step) => ({ type: 'step-skip' as const, step, reason: 'condition is false: cause is "mps-busy"' })),
      { type: 'run-end', outcome: 'nothing-to-do', cause: null, exitCode: 0, durationMs: 5, hosts: { 'mp-1': 'ok' } },
    ]))
      v.write(ev);
    await v.close();
    const row = out.plain.split('\n').find((l) => l.startsWith('skipped: ')) ?? '';
    expect(row).toMatch(/^skipped: 19 steps of other causes \(busy_dumps\.step_0, (.*, )?\+\d+ more\)$/);
    expect(row.length).toBeLessThanOrEqual((process.stdout.columns ?? 80) - 2);
  });

  it('shows the current output line while a host runs', async () => {
    const out = new Capture(true);
    const v = view(out);
    for (const ev of seq([
      runStart(['mp-1']),
      { type: 'step-start', step: 'tail', name: 'Tail the log', kind: 'run', mutates: false, hosts: ['mp-1'] },
      { type: 'host-start', step: 'tail', host: 'mp-1', attempt: 1 },
      { type: 'host-output', step: 'tail', host: 'mp-1', stream: 'stdout', line: 'GC overhead limit exceeded' },
    ]))
      v.write(ev);
    await new Promise((r) => setTimeout(r, 300)); // lines are throttled (100 ms per host by default)
    expect(out.plain).toContain('› GC overhead limit exceeded');
    await v.close();
  });

  it('shows unreachable and failed hosts as failed tasks with the reason', async () => {
    const out = new Capture(true);
    const v = view(out);
    for (const ev of unreachableRun()) v.write(ev);
    await v.close();
    expect(out.plain).toContain('✖ mp-2 unreachable 10.0s');
    expect(out.plain).toContain('› mp-2: connect ECONNREFUSED 127.0.0.1:2222');
    expect(out.plain).toContain('Check message processors [check_mp] — partial 10.0s');
  });

  it('a finished step is one row: a long name is cut to the terminal, its id, status and duration never', async () => {
    const out = new Capture(true);
    const v = view(out);
    const name = 'Send requests through the Router and read the evidence they and recent traffic left in its logs';
    for (const ev of seq([
      runStart(['r-1']),
      { type: 'step-start', step: 'router_probe', name, kind: 'run', mutates: false, hosts: ['r-1'] },
      { type: 'host-start', step: 'router_probe', host: 'r-1', attempt: 1 },
      { type: 'host-end', step: 'router_probe', host: 'r-1', status: 'ok', attempt: 1, exitCode: 0, signal: null, durationMs: 5, final: true },
      { type: 'step-end', step: 'router_probe', status: 'ok', durationMs: 1234, counts: counts({ ok: 1 }), next: null },
    ]))
      v.write(ev);
    await v.close();
    // listr2 wraps at process.stdout's columns (80 when it has none, as under vitest).
    const columns = process.stdout.columns ?? 80;
    const row = out.plain.split('\n').findLast((l) => l.includes('[router_probe]')) ?? '';
    expect(row).toMatch(/^✔ Send requests through the Router.*… \[router_probe\] — ok 1\.2s$/);
    expect(row.length).toBeLessThanOrEqual(columns - 2);
  });

  it('a step’s task ends with its step-end event, not before', async () => {
    const out = new Capture(true);
    const v = view(out);
    const events = seq([
      runStart(['mp-1']),
      { type: 'step-start', step: 's', name: 'Step S', kind: 'run', mutates: false, hosts: ['mp-1'] },
      { type: 'host-start', step: 's', host: 'mp-1', attempt: 1 },
      { type: 'host-end', step: 's', host: 'mp-1', status: 'ok', attempt: 1, exitCode: 0, signal: null, durationMs: 5, final: true },
      { type: 'step-end', step: 's', status: 'ok', durationMs: 7, counts: counts({ ok: 1 }), next: null },
    ]);
    for (const ev of events.slice(0, 4)) v.write(ev);
    expect(await settlesWithin(v.idle(), 150)).toBe(false);
    expect(out.plain).not.toContain('Step S [s] — ok');
    v.write(events[4]!);
    expect(await settlesWithin(v.idle(), 2000)).toBe(true);
    expect(out.plain).toContain('✔ Step S [s] — ok 7ms');
    await v.close();
  });

  it('pause() releases the terminal for a prompt; resume() draws what happened meanwhile', async () => {
    const out = new Capture(true);
    const v = view(out);
    const events = seq([
      runStart(['mp-1', 'mp-2']),
      { type: 'step-start', step: 'r', name: 'Restart', kind: 'run', mutates: true, hosts: ['mp-1', 'mp-2'] },
      { type: 'host-start', step: 'r', host: 'mp-1', attempt: 1 },
      { type: 'host-start', step: 'r', host: 'mp-2', attempt: 1 },
      { type: 'host-end', step: 'r', host: 'mp-1', status: 'ok', attempt: 1, exitCode: 0, signal: null, durationMs: 5, final: true },
      { type: 'host-end', step: 'r', host: 'mp-2', status: 'failed', attempt: 1, exitCode: 2, signal: null, durationMs: 6, error: 'exit code 2', final: true },
      // (the failure prompt happens here) then a retry on mp-2, and a run-level warning
      { type: 'warning', message: 'operator chose retry' },
      { type: 'host-start', step: 'r', host: 'mp-2', attempt: 2 },
      { type: 'host-end', step: 'r', host: 'mp-2', status: 'changed', attempt: 2, exitCode: 0, signal: null, durationMs: 9, final: true },
      { type: 'step-end', step: 'r', status: 'ok', durationMs: 30, counts: counts({ ok: 1, changed: 1 }), next: null },
    ]);
    for (const ev of events.slice(0, 6)) v.write(ev);
    await v.pause();
    expect(v.paused).toBe(true);
    const atPause = out.text.length;
    expect(out.plain).toContain('✖ mp-2 failed exit 2 6ms');
    // While paused, nothing is drawn (a prompt owns the terminal).
    for (const ev of events.slice(6)) v.write(ev);
    await new Promise((r) => setTimeout(r, 100));
    expect(out.text.length).toBe(atPause);
    v.resume();
    await v.close();

    const after = out.text.slice(atPause).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    expect(after).toContain('warning: operator chose retry');
    expect(after).toContain('✔ Restart [r] ⚑ mutates · continued — ok 30ms');
    expect(after).toContain('✔ mp-2 changed 15ms (attempt 2)');
  });

  it('a step with more hosts than the screen holds lists only running and failed ones, with counts', async () => {
    const out = new Capture(true);
    const v = new ListrView({ stream: asTty(out), color: false, lazy: true, maxListedHosts: 5 });
    const hosts = Array.from({ length: 30 }, (_, i) => `host-${String(i).padStart(2, '0')}`);
    v.write(seq([runStart(hosts)])[0]!);
    const events = seq(
      [
        { type: 'step-start', step: 'u', name: 'Uptime', kind: 'run', mutates: false, hosts },
        ...hosts.map((host) => ({ type: 'host-start' as const, step: 'u', host, attempt: 1 })),
        ...hosts.map((host, i) =>
          i === 7
            ? {
                type: 'host-end' as const,
                step: 'u',
                host,
                status: 'failed' as const,
                attempt: 1,
                exitCode: 1,
                signal: null,
                durationMs: 3,
                error: 'exit code 1',
                final: true,
              }
            : { type: 'host-end' as const, step: 'u', host, status: 'ok' as const, attempt: 1, exitCode: 0, signal: null, durationMs: 2, final: true },
        ),
        { type: 'step-end', step: 'u', status: 'partial', durationMs: 9, counts: counts({ ok: 29, failed: 1 }), next: null },
      ],
      2,
    );
    for (const ev of events) v.write(ev);
    await v.close();
    const last = out.plain.slice(out.plain.lastIndexOf('Uptime [u]') - 2);
    expect(last).toContain('Uptime [u] 30/30 done · 1 failed — partial 9ms');
    expect(last).toContain('✖ host-07 failed exit 1 3ms');
    expect(last).not.toMatch(/host-0[0-6]|host-[1-2]\d/);
  });

  it('createConsoleSink on a TTY draws the live view, then the recap', async () => {
    const out = new Capture(true);
    const sink = createConsoleSink({ output: 'text', tty: true, stream: asTty(out), color: false });
    for (const ev of resolvedRun()) sink.write(ev);
    await sink.close();
    expect(out.plain).toContain('✔ Check message processors [check_mp] — ok 450ms');
    expect(out.plain).toMatch(/RECAP apigee-502-bad-gateway · resolved \(exit 0\) in 12\.0s\nmp-1 +: ok=4/);
  });
});
