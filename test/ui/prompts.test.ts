// What the operator is shown and asked in guided mode: the evidence behind a decision (facts,
// log lines from the diagnosis outputs, counts), an approval (confirm, hosts, batch, commands,
// diffs), a failure (output tails, what the runbook says); and the inquirer prompter: the
// choices it offers, the live view paused around questions, Ctrl-C and timeouts mapped.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunEvent } from '../../src/engine/events.js';
import { PromptInterrupted, PromptTimedOut } from '../../src/engine/guided.js';
import type { ApprovalRequest, CauseRequest, FailureRequest } from '../../src/engine/strategy.js';
import type { PlanStep } from '../../src/plan/types.js';
import { colors } from '../../src/ui/format.js';
import { EvidenceLog, tailLines } from '../../src/ui/prompts/evidence.js';
import { InquirerPrompter, type PromptKit } from '../../src/ui/prompts/inquirer-prompter.js';
import { foldCondition, formatValue, heading, renderApproval, renderCause, renderFailure, renderPresentation, wrap } from '../../src/ui/prompts/render.js';
import { planOf } from '../engine/helpers.js';

const { plan } = planOf(`
name: t
summary: t
steps:
  - id: look
    name: look at the MPs
    hosts: mps
    run: look
    capture:
      ssl: { regex: 'ssl=(\\w+)', as: boolean, default: false }
      port: { regex: 'port=(\\d+)', as: integer, default: 0 }
  - id: diagnose
    name: name the cause
    decide:
      causes:
        - cause: tls
          summary: TLS on at the plain port
          when: hosts("mps").exists(m, m.facts.ssl && m.facts.port != 8443)
      default: none
  - id: fix
    name: fix the port
    hosts: mps
    serial: 2
    run: |
      line one
      line two
    verify:
      run: check-port
    mutates: true
    rollback:
      - id: undo
        name: put the port back
        hosts: mps
        run: undo
`);
const step = (id: string): PlanStep => plan.steps.find((s) => s.id === id) as PlanStep;

let runDir: string;
let log: EvidenceLog;

function ev<T extends RunEvent['type']>(body: Omit<Extract<RunEvent, { type: T }>, 'time' | 'seq'>): RunEvent {
  return { time: '2026-11-24T13:45:01.000Z', seq: 1, ...body } as unknown as RunEvent;
}

beforeAll(() => {
  runDir = mkdtempSync(join(tmpdir(), 'remedy-prompts-'));
  mkdirSync(join(runDir, 'outputs/look'), { recursive: true });
  mkdirSync(join(runDir, 'outputs/fix'), { recursive: true });
  writeFileSync(
    join(runDir, 'outputs/look/mp1.stdout'),
    'ssl=true\nport=8998\nerror_log: peer closed connection in SSL handshake\n\nerror_log: upstream 10.0.0.1:8998\n',
  );
  writeFileSync(join(runDir, 'outputs/look/mp2.stdout'), 'ssl=false\nport=8998\n');
  writeFileSync(join(runDir, 'outputs/fix/mp2.stderr'), `${Array.from({ length: 30 }, (_, i) => `err line ${i + 1}`).join('\n')}\n`);
  writeFileSync(join(runDir, 'outputs/fix/mp2.stdout'), 'restarting\n');
  log = new EvidenceLog(runDir);
  const events: RunEvent[] = [
    ev<'step-start'>({ type: 'step-start', step: 'look', name: 'look at the MPs', kind: 'run', mutates: false, hosts: ['mp1', 'mp2', 'mp3'] }),
    ev<'host-end'>({
      type: 'host-end',
      step: 'look',
      host: 'mp1',
      status: 'ok',
      attempt: 1,
      exitCode: 0,
      signal: null,
      durationMs: 5,
      facts: { ssl: true, port: 8998 },
      outputs: { stdout: 'outputs/look/mp1.stdout', stderr: '' },
      final: true,
    }),
    ev<'host-end'>({
      type: 'host-end',
      step: 'look',
      host: 'mp2',
      status: 'ok',
      attempt: 1,
      exitCode: 0,
      signal: null,
      durationMs: 5,
      facts: { ssl: false, port: 8998 },
      outputs: { stdout: 'outputs/look/mp2.stdout', stderr: '' },
      final: true,
    }),
    ev<'host-end'>({
      type: 'host-end',
      step: 'look',
      host: 'mp3',
      status: 'unreachable',
      attempt: 1,
      exitCode: null,
      signal: null,
      durationMs: 5,
      error: 'connection refused',
      final: true,
    }),
  ];
  for (const e of events) log.write(e);
});

afterAll(() => undefined);

const causeReq: CauseRequest = {
  step: plan.steps.find((s) => s.id === 'diagnose') as PlanStep,
  cause: 'tls',
  candidates: [
    { cause: 'tls', summary: 'TLS on at the plain port', condition: 'hosts("mps").exists(m, m.facts.ssl && m.facts.port != 8443)' },
    { cause: 'none', summary: null, condition: null },
  ],
  evidence: {
    condition: 'hosts("mps").exists(m, m.facts.ssl && m.facts.port != 8443)',
    facts: { mp1: { ssl: true, port: 8998 }, mp2: { ssl: false, port: 8998 } },
  },
};

function approvalReq(extra: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return {
    step: step('fix'),
    batch: { index: 1, count: 2 },
    hosts: ['mp1', 'mp2'],
    commands: [
      { host: 'mp1', command: 'line one\nline two' },
      { host: 'mp1', command: 'verify: check-port' },
      { host: 'mp2', command: 'line one\nline two' },
      { host: 'mp2', command: 'verify: check-port' },
    ],
    diffs: {},
    confirm: 'The MPs restart.',
    rollback: false,
    planHash: plan.planHash,
    ...extra,
  };
}

const failureReq: FailureRequest = {
  step: plan.steps.find((s) => s.id === 'fix') as PlanStep,
  batch: { index: 1, count: 2 },
  failed: [
    {
      host: 'mp2',
      status: 'failed',
      exitCode: 3,
      error: 'exit code 3',
      outputs: { stdout: 'outputs/fix/mp2.stdout', stderr: 'outputs/fix/mp2.stderr' },
      verification: false,
    },
  ],
  unreachable: ['mp3'],
  policy: { action: 'abort' },
  canRollback: true,
  withinThresholds: false,
  retried: 1,
};

describe('evidence log', () => {
  test('facts per host, log lines (not the key=value lines that became facts), counts of the diagnosis', () => {
    expect(Object.fromEntries(log.facts())).toEqual({ mp1: { ssl: true, port: 8998 }, mp2: { ssl: false, port: 8998 }, mp3: {} });
    expect(log.logLines()).toEqual([
      { step: 'look', host: 'mp1', line: 'error_log: peer closed connection in SSL handshake' },
      { step: 'look', host: 'mp1', line: 'error_log: upstream 10.0.0.1:8998' },
    ]);
    expect(log.counts()).toMatchObject({ ok: 2, unreachable: 1, failed: 0 });
  });

  test('tailLines reads the end of a file and nothing when there is none', () => {
    expect(tailLines(join(runDir, 'outputs/fix/mp2.stderr'), 2)).toEqual(['err line 29', 'err line 30']);
    expect(tailLines(join(runDir, 'missing'), 2)).toEqual([]);
    expect(tailLines(null, 2)).toEqual([]);
  });
});

describe('rendering', () => {
  test('a decision: cause with summary, the condition, the evidence per host, other facts, log lines, counts, candidates', () => {
    const text = renderCause(causeReq, { evidence: log }, false);
    expect(text).toContain('━━ Decision: name the cause [diagnose]');
    expect(text).toContain('Concluded cause: tls — TLS on at the plain port');
    expect(text).toContain('because this held: hosts("mps").exists(m, m.facts.ssl && m.facts.port != 8443)');
    expect(text).toMatch(/Evidence \(the facts the decision read\):\n {2}mp1 {3}ssl=true {2}port=8998\n {2}mp2 {3}ssl=false {2}port=8998/);
    // Lines of one step name it once, in the heading, right under the facts.
    expect(text).toContain('  mp2   ssl=false  port=8998\nLog lines from the diagnosis [look]:\n  mp1   error_log: peer closed connection in SSL handshake');
    expect(text).toContain('Diagnosis: 1 read-only step · 2 ok, 1 unreachable');
    // The other candidates are one line; details list each with its condition.
    expect(text).toContain('Other causes: none (d: why not)');
    expect(renderCause(causeReq, { evidence: log }, true)).toMatch(/▸ tls — TLS on at the plain port\n {6}when: .*\n {4}none — the default/);
    // Facts already shown as evidence are not repeated.
    expect(text).not.toContain('Other facts gathered');
  });

  test('the default cause says so; details list every fact and every condition', () => {
    const text = renderCause({ ...causeReq, cause: 'none', evidence: { condition: null, facts: {} } }, { evidence: log }, true);
    expect(text).toContain("no cause's condition held: this is the default");
    expect(text).toMatch(/Every fact gathered:\n {2}mp1 {3}ssl=true {2}port=8998/);
    expect(text).toContain('when: hosts("mps").exists(m, m.facts.ssl && m.facts.port != 8443)');
  });

  test('hosts the condition read nothing of are left out; long fact lists and log lines wrap to the width, never cut', () => {
    const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`fact_${i}`, i * 1000]));
    const req: CauseRequest = { ...causeReq, evidence: { condition: causeReq.evidence.condition, facts: { r1: {}, mp1: many } } };
    const text = renderCause(req, { evidence: log, width: 60 }, false);
    expect(text).not.toMatch(/^\s+r1\b/m);
    const evidence = text.split('Evidence (the facts the decision read):\n')[1]?.split('\nLog lines')[0] ?? '';
    const lines = evidence.split('\n');
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.every((l) => l.length <= 60)).toBe(true);
    expect(lines[1]).toMatch(/^ {8}fact_/); // under the first fact
    // Log lines wrap under their start (their point is often at the end).
    expect(text).toContain('  mp1   error_log: peer closed connection in SSL handshake\n');
    // However narrow, a log line is wrapped whole, never cut with an ellipsis.
    const narrow = renderCause(req, { evidence: log, width: 30 }, false).split('Log lines from the diagnosis [look]:\n')[1]?.split('\n\n')[0] ?? '';
    expect(narrow.split('\n').length).toBeGreaterThan(2);
    expect(narrow.replace(/\n\s+/g, ' ')).toContain('error_log: peer closed connection in SSL handshake');
    expect(narrow).not.toContain('…');
  });

  test('a long condition is one row in the summary, its middle left out and its decisive end whole; details show it as written', () => {
    const when = `hosts('message_processors').filter(m, has(m.facts.mp_running)
  && hosts('routers').exists(f, f.vars.region == m.vars.region && has(f.facts.probe_status)
       && (f.facts.probe_status != 200 || f.facts.fresh_errors > 0)))
.exists(m, !m.facts.mp_running)`;
    const folded = foldCondition(when, 79);
    expect(folded.length).toBeLessThanOrEqual(79);
    expect(folded).toMatch(/^hosts\('message_processors'\)\.filter\(m,.*…\.exists\(m, !m\.facts\.mp_running\)$/);
    // The tested call whole, even when nothing of the head fits beside it.
    const tls = `hosts('message_processors').filter(m, has(m.facts.mp_running)
  && hosts('routers').exists(f, f.vars.region == m.vars.region))
.exists(m, m.facts.mp_ssl && m.facts.mp_cfg_port != int(m.vars.mp_tls_port))`;
    expect(foldCondition(tls, 79)).toBe('….exists(m, m.facts.mp_ssl && m.facts.mp_cfg_port != int(m.vars.mp_tls_port))');
    expect(foldCondition(tls, 120)).toMatch(
      /^hosts\('message_processors'\)\.filter\(m,.*….exists\(m, m\.facts\.mp_ssl && m\.facts\.mp_cfg_port != int\(m\.vars\.mp_tls_port\)\)$/,
    );
    expect(foldCondition(tls, 120).length).toBeLessThanOrEqual(120);
    // A short one is only joined into one line; spaces inside it stay.
    expect(foldCondition('a == "x  y"\n  && b', 79)).toBe('a == "x  y" && b');
    // No call to keep whole: the end from a space.
    const flat = Array.from({ length: 30 }, (_, i) => `f.facts.x${i} > 0`).join(' && ');
    const cut = foldCondition(flat, 60);
    expect(cut.length).toBeLessThanOrEqual(60);
    expect(cut).toMatch(/…/);
    expect(cut.endsWith('f.facts.x29 > 0')).toBe(true);

    const req: CauseRequest = {
      ...causeReq,
      candidates: causeReq.candidates.map((k) => (k.cause === 'tls' ? { ...k, condition: when } : k)),
      evidence: { ...causeReq.evidence, condition: when },
    };
    const summary = renderCause(req, { evidence: log, width: 100 }, false);
    const row = summary.split('\n').find((l) => l.startsWith('  because this held: ')) ?? '';
    expect(row.length).toBeLessThanOrEqual(100);
    expect(row).toContain('.exists(m, !m.facts.mp_running)');
    expect(renderCause(req, { evidence: log, width: 100 }, true)).toContain(`because this held: ${when}`);
  });

  test('headings and the other causes fit one row: a long step name is cut, the step id and the batch never; causes that do not fit are counted', () => {
    const c = colors(false);
    const long = { ...step('fix'), name: 'Restart the Message Processor and wait until it is ready, then tell everyone about it' };
    const text = heading(c, 'Approval', long, ' · batch 1/1', 100);
    expect(text.length).toBeLessThanOrEqual(100);
    expect(text).toMatch(/^━━ Approval: Restart the Message Processor.*… \[fix\] · batch 1\/1 ━━━+$/);
    expect(heading(c, 'Approval', step('fix'), '', 100)).toMatch(/^━━ Approval: fix the port \[fix\] ━+$/);
    const many = ['a-cause', 'b-cause', 'c-cause', 'd-cause', 'e-cause', 'f-cause', 'g-cause', 'h-cause', 'i-cause'].map((cause) => ({
      cause,
      summary: null,
      condition: 'x',
    }));
    const req: CauseRequest = { ...causeReq, candidates: [...causeReq.candidates, ...many] };
    const other =
      renderCause(req, { evidence: log, width: 60 }, false)
        .split('\n')
        .find((l) => l.startsWith('Other causes: ')) ?? '';
    expect(other.length).toBeLessThanOrEqual(60);
    expect(other).toMatch(/^Other causes: none, a-cause, .*, \+\d+ more \(d: why not\)$/);
    expect(renderCause(req, { evidence: log, width: 200 }, false)).toContain(
      'Other causes: none, a-cause, b-cause, c-cause, d-cause, e-cause, f-cause, g-cause, h-cause, i-cause (d: why not)',
    );
  });

  test('an approval: confirm text, hosts and batch, the same commands grouped for every host', () => {
    const text = renderApproval(approvalReq(), {}, false);
    expect(text).toContain('━━ Approval: fix the port [fix] · batch 1/2');
    expect(text).toContain('The MPs restart.');
    expect(text).toContain('Hosts (2): mp1, mp2  (rolling batch 1 of 2)');
    expect(text).toContain('Commands on every host (mp1, mp2):\n  line one\n  line two\n  verify: check-port');
  });

  test('commands that differ per host are listed per host; long ones are clipped in the summary, whole in the details', () => {
    const long = Array.from({ length: 20 }, (_, i) => `cmd ${i + 1}`).join('\n');
    const req = approvalReq({
      commands: [
        { host: 'mp1', command: long },
        { host: 'mp2', command: 'short' },
      ],
    });
    const summary = renderApproval(req, {}, false);
    expect(summary).toContain('  mp1:\n    cmd 1\n');
    expect(summary).toContain('… 8 more lines (d shows all)');
    expect(summary).toContain('  mp2:\n    short');
    const details = renderApproval(req, {}, true);
    expect(details).toContain('cmd 20');
    expect(details).toMatch(/Step fix, run, written at .*rb\.yaml:\d+:\d+/);
    expect(details).toContain('rollback: put the port back [undo]');
    expect(details).toContain(`plan ${plan.planHash}`);
  });

  test('a properties edit shows its diff per host (commands only in the details)', () => {
    const diff = '--- a/mp.properties\n+++ b/mp.properties\n@@ -1 +1 @@\n-port=8998\n+port=8443';
    const req = approvalReq({ commands: [{ host: 'mp1', command: 'edit /opt/mp.properties' }], hosts: ['mp1'], diffs: { mp1: diff } });
    const text = renderApproval(req, {}, false);
    expect(text).toContain(`Changes on mp1:\n  --- a/mp.properties\n  +++ b/mp.properties\n  @@ -1 +1 @@\n  -port=8998\n  +port=8443`);
    expect(text).not.toContain('edit /opt/mp.properties');
    expect(renderApproval(req, {}, true)).toContain('edit /opt/mp.properties');
  });

  test('a failure: who failed how, the tail of its output, unreachable hosts, what the runbook says', () => {
    const text = renderFailure(failureReq, { runDir }, false);
    expect(text).toContain('━━ Failed: fix the port [fix] · batch 1/2');
    expect(text).toContain('  mp2: failed, exit 3 — exit code 3');
    expect(text).toContain('stderr (last 8 lines):');
    expect(text).toContain('      err line 30');
    expect(text).not.toContain('err line 22\n');
    expect(text).toContain('      restarting');
    expect(text).toContain('  unreachable: mp3');
    expect(text).toContain('retried 1 time already');
    expect(text).toContain('The runbook says: on_failure: abort · rollback: undo · beyond the failure thresholds');
    const full = renderPresentation({ kind: 'failure-output', req: failureReq }, { runDir });
    expect(full).toContain('err line 1\n');
    expect(full).toContain('err line 30');
  });

  test('wrap: at spaces, at most so many rows, the last one cut', () => {
    expect(wrap('aaaa bbbb cccc dddd eeee ffff gggg', 20, 3)).toEqual(['aaaa bbbb cccc dddd', 'eeee ffff gggg']);
    expect(wrap('x'.repeat(70), 20, 3)).toEqual(['x'.repeat(20), 'x'.repeat(20), `${'x'.repeat(19)}…`]);
  });

  test('values: short strings bare, others as JSON, long ones cut', () => {
    expect(formatValue('abc')).toBe('abc');
    expect(formatValue('')).toBe('""');
    expect(formatValue('a\nb')).toBe('"a\\nb"');
    expect(formatValue([1, 2])).toBe('[1,2]');
    expect(formatValue('x'.repeat(100), 10)).toBe(`${'x'.repeat(9)}…`);
  });
});

/** A prompt kit that records each question and answers from a script. */
function fakeKit(answers: unknown[]): {
  kit: PromptKit;
  asked: { kind: string; config: { message: string; choices: { value: string; key?: string }[] }; signal?: AbortSignal | undefined }[];
} {
  const asked: { kind: string; config: { message: string; choices: { value: string; key?: string }[] }; signal?: AbortSignal | undefined }[] = [];
  const next = async (kind: string, config: unknown, context: { signal?: AbortSignal | undefined }): Promise<never> => {
    asked.push({ kind, config: config as never, signal: context.signal });
    const a = answers.shift();
    if (a instanceof Error) throw a;
    return a as never;
  };
  return {
    asked,
    kit: {
      expand: (config, context) => next('expand', config, context),
      select: (config, context) => next('select', config, context),
      checkbox: (config, context) => next('checkbox', config, context),
    },
  };
}

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  return {
    stream: new Writable({
      write(chunk: Buffer, _enc, cb) {
        text += chunk.toString();
        cb();
      },
    }),
    text: () => text,
  };
}

const named = (name: string): Error => Object.assign(new Error(name), { name });

describe('inquirer prompter', () => {
  test('the choices offered: pick only with several hosts, rollback only when the step has some; no default that runs', async () => {
    const { kit, asked } = fakeKit(['run', 'run', 'retry', 'retry', 'accept']);
    const out = sink();
    const p = new InquirerPrompter({ kit, output: out.stream });
    await p.askApproval(approvalReq(), { canPick: true });
    await p.askApproval(approvalReq({ hosts: ['mp1'] }), { canPick: false });
    await p.askFailure(failureReq, {});
    await p.askFailure({ ...failureReq, canRollback: false }, {});
    await p.askCause(causeReq, {});
    const keys = asked.map((a) => a.config.choices.map((c) => `${c.key}:${c.value}`).join(' '));
    expect(keys).toEqual([
      'y:run p:pick s:skip d:details a:abort',
      'y:run s:skip d:details a:abort',
      'r:retry s:skip b:rollback f:policy o:output a:abort',
      'r:retry s:skip f:policy o:output a:abort',
      'y:accept o:other d:details',
    ]);
    expect(asked[0]?.config).toMatchObject({ message: 'Run step fix on mp1, mp2?', default: 'h' });
    expect(asked[2]?.config.message).toBe('Step fix failed on mp2, mp3. What now?');
  });

  test('another cause: the candidates other than the concluded one; hosts: every requested host', async () => {
    const { kit, asked } = fakeKit(['none', ['mp2']]);
    const p = new InquirerPrompter({ kit, output: sink().stream });
    expect(await p.pickCause(causeReq, {})).toBe('none');
    expect(await p.pickHosts(approvalReq(), {})).toEqual(['mp2']);
    expect(asked[0]?.config.choices.map((c) => c.value)).toEqual(['none']);
    expect(asked[1]?.config.choices.map((c) => c.value)).toEqual(['mp1', 'mp2']);
  });

  test('Ctrl-C (ExitPromptError) → PromptInterrupted; the timeout (AbortPromptError with the signal aborted) → PromptTimedOut', async () => {
    const aborted = AbortSignal.abort();
    const { kit, asked } = fakeKit([named('ExitPromptError'), named('AbortPromptError'), named('AbortPromptError'), new Error('other')]);
    const out = sink();
    const p = new InquirerPrompter({ kit, output: out.stream });
    await expect(p.askCause(causeReq, {})).rejects.toBeInstanceOf(PromptInterrupted);
    await expect(p.askApproval(approvalReq(), { canPick: true, signal: aborted })).rejects.toBeInstanceOf(PromptTimedOut);
    expect(asked[1]?.signal).toBe(aborted);
    expect(out.text()).toContain('No answer in time: nothing more is changed; every later question is answered the same way.');
    // An abort that is not our timeout is not dressed up as one.
    await expect(p.askFailure(failureReq, {})).rejects.toThrow('AbortPromptError');
    await expect(p.askFailure(failureReq, {})).rejects.toThrow('other');
  });

  test('the live view is paused while the operator has the terminal, and resumed after', async () => {
    const calls: string[] = [];
    const view = {
      pause: async () => {
        calls.push('pause');
      },
      resume: () => {
        calls.push('resume');
      },
    };
    const out = sink();
    const p = new InquirerPrompter({ view, output: out.stream, evidence: log, runDir });
    await p.begin();
    await p.present({ kind: 'cause', req: causeReq });
    p.end();
    expect(calls).toEqual(['pause', 'resume']);
    expect(out.text()).toContain('Log lines from the diagnosis [look]:');
  });

  test('the timeout is shown with each question', async () => {
    const { kit, asked } = fakeKit(['run']);
    const p = new InquirerPrompter({ kit, output: sink().stream, approvalTimeoutMs: 300_000 });
    await p.askApproval(approvalReq(), { canPick: true });
    expect(asked[0]?.config.message).toBe('Run step fix on mp1, mp2? (answer within 5m00s)');
  });

  describe('through real inquirer prompts on a stream', () => {
    // Inquirer reads keypresses from any stream; an interval keeps the loop alive, as a TTY would.
    let keepAlive: NodeJS.Timeout;
    beforeAll(() => {
      keepAlive = setInterval(() => undefined, 1000);
    });
    afterAll(() => clearInterval(keepAlive));

    function typed(keys: string[]): PassThrough {
      const input = new PassThrough();
      let i = 0;
      const t = setInterval(() => {
        if (i >= keys.length) return clearInterval(t);
        input.write(keys[i++] as string);
      }, 30);
      return input;
    }

    test('p then enter picks; space + enter in the checkbox chooses the host under the cursor', async () => {
      const out = sink();
      const p = new InquirerPrompter({ input: typed(['p', '\r']), output: out.stream });
      expect(await p.askApproval(approvalReq(), { canPick: true })).toBe('pick');
      const q = new InquirerPrompter({ input: typed(['\x1b[B', ' ', '\r']), output: out.stream });
      expect(await q.pickHosts(approvalReq(), {})).toEqual(['mp2']);
      expect(out.text()).toContain('Run step fix on mp1, mp2?');
    });

    test('Ctrl-C at a real prompt is PromptInterrupted; a real timeout is PromptTimedOut', async () => {
      const p = new InquirerPrompter({ input: typed(['\x03']), output: sink().stream });
      await expect(p.askApproval(approvalReq(), { canPick: true })).rejects.toBeInstanceOf(PromptInterrupted);
      const q = new InquirerPrompter({ input: new PassThrough(), output: sink().stream });
      await expect(q.askFailure(failureReq, { signal: AbortSignal.timeout(50) })).rejects.toBeInstanceOf(PromptTimedOut);
    });
  });
});

describe('collapsing alike hosts', () => {
  test('identical evidence facts share one line; commands differing only in host name and ports fold into the first', () => {
    const req: CauseRequest = {
      ...causeReq,
      evidence: { condition: 'x', facts: { mp1: { running: false }, mp2: { running: false }, mp3: { running: true } } },
    };
    const text = renderCause(req, {}, false);
    expect(text).toMatch(/ {2}mp1, mp2 {2}running=false\n {2}mp3 {7}running=true/);
    const approval = renderApproval(
      approvalReq({
        hosts: ['mp1', 'mp2', 'mp3'],
        commands: [
          { host: 'mp1', command: '/lab/hosts/mp1/apigee-service restart && curl http://127.0.0.1:29407/up' },
          { host: 'mp2', command: '/lab/hosts/mp2/apigee-service restart && curl http://127.0.0.1:29411/up' },
          { host: 'mp3', command: 'something else entirely' },
        ],
      }),
      {},
      false,
    );
    expect(approval).toContain(
      '  mp1:\n    /lab/hosts/mp1/apigee-service restart && curl http://127.0.0.1:29407/up\n  [mp2 alike: the same with their own host name, paths and ports; d shows each]\n  mp3:\n    something else entirely',
    );
    expect(approval).not.toContain('/lab/hosts/mp2/');
    expect(
      renderApproval(
        approvalReq({
          hosts: ['mp1', 'mp2'],
          commands: [
            { host: 'mp1', command: 'a 1' },
            { host: 'mp2', command: 'a 2' },
          ],
        }),
        {},
        true,
      ),
    ).toContain('  mp2:\n    a 2');
  });
});
