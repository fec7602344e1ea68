// A secret handed to every writer of a run directory in clear (events the executor failed to
// redact, outputs split mid-secret, a secret -e param) is found in no file of the directory.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/engine/events.js';
import {
  JournalSink,
  RedactingOutputWriter,
  ResultSink,
  createRunDir,
  makeRunInputs,
  outputPaths,
  writeJsonAtomic,
  writeReport,
  writeRunInputs,
} from '../../src/journal/index.js';
import { Redactor } from '../../src/redact/redactor.js';
import { SECRET, counts, runStart, seq } from './fixtures.js';

const base = mkdtempSync(join(tmpdir(), 'remedy-secrets-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

function leakyRun(): RunEvent[] {
  const out = outputPaths('login', 'mp-1');
  return seq([
    { ...runStart(['mp-1']), params: { admin_password: SECRET } },
    { type: 'step-start', step: 'login', name: `Log in with ${SECRET}`, kind: 'run', mutates: true, hosts: ['mp-1'] },
    {
      type: 'approval',
      step: 'login',
      decision: 'approved',
      source: 'flag',
      operator: 'alice',
      hosts: ['mp-1'],
      planHash: 'h',
      commands: [{ host: 'mp-1', command: `curl -u admin:${SECRET} http://localhost:8080` }],
      diffs: { 'mp-1': `-pw=old\n+pw=${SECRET}\n` },
    },
    { type: 'host-start', step: 'login', host: 'mp-1', attempt: 1, command: `curl -u admin:${SECRET} http://localhost:8080` },
    { type: 'host-output', step: 'login', host: 'mp-1', stream: 'stdout', line: `token for ${SECRET}` },
    {
      type: 'host-end',
      step: 'login',
      host: 'mp-1',
      status: 'changed',
      attempt: 1,
      exitCode: 0,
      signal: null,
      durationMs: 10,
      facts: { echoed: SECRET },
      outputs: out,
      diff: `+pw=${SECRET}`,
      error: `warning: ${SECRET}`,
      final: true,
    },
    { type: 'step-end', step: 'login', status: 'ok', durationMs: 11, counts: counts({ changed: 1 }), next: 'decide' },
    { type: 'step-start', step: 'decide', name: 'Decide', kind: 'decide', mutates: false, hosts: [] },
    {
      type: 'decision',
      step: 'decide',
      cause: 'bad_password',
      evidence: { condition: `facts.echoed == '${SECRET}'`, facts: { 'mp-1': { echoed: SECRET } } },
      candidates: ['bad_password'],
    },
    { type: 'step-end', step: 'decide', status: 'ok', durationMs: 1, counts: counts(), next: null },
    { type: 'warning', message: `the password ${SECRET} is weak` },
    { type: 'run-end', outcome: 'failed', cause: 'bad_password', exitCode: 1, durationMs: 50, message: `failed with ${SECRET}`, hosts: { 'mp-1': 'failed' } },
  ]);
}

describe('secrets in the run directory', () => {
  it('appear in no file: plan, inputs, journal, outputs, result, report', async () => {
    const secrets = [SECRET];
    const redactor = new Redactor(secrets);
    const dir = createRunDir({ runbook: 'rb', base });

    writeJsonAtomic(dir.plan, redactor.redactValue({ runbook: 'rb', params: { admin_password: SECRET }, steps: [] }));
    writeRunInputs(
      dir,
      makeRunInputs({
        runbook: 'rb',
        runbookFile: 'rb.yaml',
        inventory: 'inv.yaml',
        overrides: { admin_password: SECRET },
        secretParams: ['admin_password'],
        planHash: 'h',
        options: { mode: 'unattended' },
      }),
    );

    const journal = new JournalSink(dir.path, redactor);
    const result = new ResultSink(dir.path, redactor);
    for (const ev of leakyRun()) {
      journal.write(ev);
      result.write(ev);
    }
    // The command's output arrives with the secret cut in two, on stdout and stderr.
    const paths = outputPaths('login', 'mp-1');
    const stdout = new RedactingOutputWriter(join(dir.path, paths.stdout), secrets);
    const stderr = new RedactingOutputWriter(join(dir.path, paths.stderr), secrets);
    const half = Math.floor(SECRET.length / 2);
    stdout.write(`token for ${SECRET.slice(0, half)}`);
    stderr.write(Buffer.from(SECRET.slice(0, 3)));
    stdout.write(`${SECRET.slice(half)}\nbye\n`);
    stderr.write(Buffer.from(`${SECRET.slice(3)}`));
    stdout.close();
    stderr.close();
    await journal.close();
    await result.close();
    writeReport(dir.path, { redactor });

    const files = filesUnder(dir.path)
      .map((f) => f.slice(dir.path.length + 1))
      .sort();
    expect(files).toEqual(['inputs.json', 'journal.jsonl', 'outputs/login/mp-1.stderr', 'outputs/login/mp-1.stdout', 'plan.json', 'report.md', 'result.json']);
    for (const f of files) {
      const text = readFileSync(join(dir.path, f), 'utf8');
      expect(text, f).not.toContain(SECRET);
      // Nor any long piece of it (a secret split by a bad cut would leave one).
      expect(text, f).not.toContain(SECRET.slice(0, half));
      expect(text, f).not.toContain(SECRET.slice(half));
    }
    expect(readFileSync(join(dir.path, paths.stdout), 'utf8')).toBe('token for ********\nbye\n');
    expect(readFileSync(join(dir.path, paths.stderr), 'utf8')).toBe('********');
    expect(readFileSync(dir.report, 'utf8')).toContain('********');
  });
});

describe('short secrets (redaction is structural)', () => {
  // A text replace over serialized JSON turned `"exitCode":1` into `"exitCode":********` (invalid
  // JSON) for the secret `1`, and renamed the "seq" key of every line for the secret `seq`.
  for (const secret of ['1', 'true', 'seq', '12', 'null', '"', '\\']) {
    it(`keeps the journal and result.json valid JSON with the secret ${JSON.stringify(secret)}`, async () => {
      const redactor = new Redactor([secret]);
      const dir = createRunDir({ runbook: 'rb', base });
      const journal = new JournalSink(dir.path, redactor);
      const result = new ResultSink(dir.path, redactor);
      const events = leakyRun()
        .filter((ev) => ev.type !== 'host-output')
        .map((ev) => (ev.type === 'warning' ? { ...ev, message: `the value is ${secret} here` } : ev));
      for (const ev of events) {
        journal.write(ev);
        result.write(ev);
      }
      await journal.close();
      await result.close();
      const lines = readFileSync(dir.journal, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(events.length);
      const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      // Keys, numbers and booleans are untouched.
      expect(parsed.map((e) => e.seq)).toEqual(events.map((e) => e.seq));
      const end = parsed.find((e) => e.type === 'host-end') as Record<string, unknown>;
      expect(end.exitCode).toBe(0);
      expect(end.final).toBe(true);
      expect((parsed.at(-1) as Record<string, unknown>).exitCode).toBe(1);
      // The secret inside a longer string is still masked.
      const warning = parsed.find((e) => e.type === 'warning') as Record<string, unknown>;
      expect(warning.message).toBe('the value is ******** here');
      expect(() => JSON.parse(readFileSync(dir.result, 'utf8')) as unknown).not.toThrow();
    });
  }

  it('masks a secret holding JSON-escaped characters, which a replace over JSON text missed', () => {
    const secret = 'pa"ss\\word';
    const redactor = new Redactor([secret]);
    const out = redactor.redactValue({ seq: 3, cmd: `login ${secret} now`, list: [secret, 7, false, null] });
    expect(out).toEqual({ seq: 3, cmd: 'login ******** now', list: ['********', 7, false, null] });
  });
});
