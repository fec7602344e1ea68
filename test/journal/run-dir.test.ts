import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { artifactDir, createRunDir, makeRunInputs, openRunDir, outputPaths, readRunInputs, runTimestamp, writeRunInputs } from '../../src/journal/index.js';
import { REDACTED } from '../../src/redact/redactor.js';

let base: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'remedy-rundir-'));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

describe('run directory', () => {
  const now = new Date('2026-11-24T13:45:01.789Z');

  it('defaults to <base>/<UTC timestamp>-<runbook> with outputs/ and artifacts/', () => {
    expect(runTimestamp(now)).toBe('20261124T134501Z');
    const dir = createRunDir({ runbook: 'apigee-502-bad-gateway', base, now });
    expect(basename(dir.path)).toBe('20261124T134501Z-apigee-502-bad-gateway');
    expect(statSync(dir.outputs).isDirectory()).toBe(true);
    expect(statSync(dir.artifacts).isDirectory()).toBe(true);
    expect(dir.journal).toBe(join(dir.path, 'journal.jsonl'));
    expect(dir.result).toBe(join(dir.path, 'result.json'));
    expect(dir.report).toBe(join(dir.path, 'report.md'));
    expect(dir.plan).toBe(join(dir.path, 'plan.json'));
    expect(dir.inputs).toBe(join(dir.path, 'inputs.json'));
  });

  it('gives two runs started in the same second two directories', () => {
    const a = createRunDir({ runbook: 'rb', base, now });
    const b = createRunDir({ runbook: 'rb', base, now });
    const c = createRunDir({ runbook: 'rb', base, now });
    expect(new Set([a.path, b.path, c.path]).size).toBe(3);
    expect(basename(b.path)).toBe('20261124T134501Z-rb-2');
  });

  it('makes the runbook name path-safe', () => {
    const dir = createRunDir({ runbook: '../../etc/x y', base, now });
    expect(dir.path.startsWith(base)).toBe(true);
    expect(basename(dir.path)).toBe('20261124T134501Z-__.._etc_x_y');
  });

  it('--run-dir is used as given, and refused when it already holds a run', () => {
    const wanted = join(base, 'my', 'run');
    const dir = createRunDir({ runbook: 'rb', runDir: wanted });
    expect(dir.path).toBe(wanted);
    writeFileSync(dir.journal, '');
    expect(() => createRunDir({ runbook: 'rb', runDir: wanted })).toThrow(UsageError);
    expect(() => createRunDir({ runbook: 'rb', runDir: wanted })).toThrow(/remedy resume/);
  });

  it('openRunDir wants a directory with a journal', () => {
    expect(() => openRunDir(join(base, 'missing'))).toThrow(/no such run directory/);
    mkdirSync(join(base, 'empty'));
    expect(() => openRunDir(join(base, 'empty'))).toThrow(/not a run directory/);
    const dir = createRunDir({ runbook: 'rb', base, now });
    writeFileSync(dir.journal, '');
    expect(openRunDir(dir.path).path).toBe(dir.path);
  });

  it('names output files like the executor does, and keeps them inside outputs/', () => {
    expect(outputPaths('check_mp', 'mp-1')).toEqual({ stdout: 'outputs/check_mp/mp-1.stdout', stderr: 'outputs/check_mp/mp-1.stderr' });
    expect(outputPaths('restart', 'mp-1', 2).stdout).toBe('outputs/restart/mp-1.a2.stdout');
    expect(outputPaths('poll', 'mp-1', 3, 4).stdout).toBe('outputs/poll/mp-1.i4.a3.stdout');
    expect(outputPaths('restart', 'mp-1', 1, undefined, 'verify').stderr).toBe('outputs/restart/mp-1.verify.stderr');
    expect(outputPaths('inc.step', '../../etc', 1).stdout).toBe('outputs/inc.step/__.._etc.stdout');
    expect(artifactDir('10.0.0.1:22/x')).toBe('artifacts/10.0.0.1_22_x');
  });
});

describe('inputs.json', () => {
  it('keeps what rebuilds the plan, withholding secret params', () => {
    const dir = createRunDir({ runbook: 'rb', base });
    const inputs = makeRunInputs({
      runbook: 'apigee-502-bad-gateway',
      runbookFile: 'runbooks/apigee/apigee-502-bad-gateway.yaml',
      inventory: 'inventory/prod.yaml',
      overrides: { org: 'prod', admin_password: 'hunter2-xyz' },
      secretParams: ['admin_password'],
      limit: 'dc_1',
      planHash: 'sha256:abc',
      options: { mode: 'unattended', forks: 20, yes: true },
      cwd: '/srv/ops',
    });
    writeRunInputs(dir, inputs);
    const text = readFileSync(dir.inputs, 'utf8');
    expect(text).not.toContain('hunter2-xyz');
    const back = readRunInputs(dir.path);
    expect(back).toEqual(inputs);
    expect(back.overrides).toEqual({ org: 'prod', admin_password: REDACTED });
    expect(back.withheldParams).toEqual(['admin_password']);
    expect(back.inventory).toBe('/srv/ops/inventory/prod.yaml');
    expect(back.runbookFile).toBe('/srv/ops/runbooks/apigee/apigee-502-bad-gateway.yaml');
    expect(back.limit).toBe('dc_1');
    expect(back.remedyVersion).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('refuses a file that is not a run’s inputs, saying why', () => {
    const dir = createRunDir({ runbook: 'rb', base });
    writeFileSync(dir.inputs, JSON.stringify({ version: 1, runbook: 3 }));
    expect(() => readRunInputs(dir)).toThrow(/runbook must be a string/);
    expect(existsSync(dir.inputs)).toBe(true);
  });
});
