// Hostile or broken runbook files: absurd nesting, megabytes of YAML errors, NUL bytes, empty
// directories and out-of-range numbers all end as positioned diagnostics (exit 64 in the CLI),
// never a stack trace or a crash of the process.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/errors.js';
import { validatePaths } from '../../src/runbook/index.js';
import { MAX_FILE_DIAGNOSTICS } from '../../src/runbook/source.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'remedy-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

function errors(f: string): string[] {
  return validatePaths([f])
    .diagnostics.filter((d) => d.severity === 'error')
    .map((d) => formatDiagnostic(d).replace(`${f}:`, ''));
}

const steps = (extra: string): string => `name: n\nsummary: s\nsteps:\n  - id: a\n    name: a\n    run: echo hi\n${extra}`;

describe('file limits', () => {
  it('3,000 levels of "- - -" is a positioned error and exit 64, not a crash, in validate and plan', () => {
    const f = file('deep.yaml', `${'- '.repeat(3000)}x\n`);
    expect(errors(f)).toEqual(['1:199: nesting deeper than 100 levels: a runbook is never this deep (a generated or corrupted file?)']);
    // V8 died with a fatal out-of-memory in its regexp compiler, not a catchable error: only the
    // CLI in its own process shows the crash is gone (dist/ is built by `npm test` first).
    for (const command of [
      ['validate', f],
      ['plan', f, '-i', path.join(repo, 'inventory/example.yaml')],
    ]) {
      const r = spawnSync(process.execPath, [path.join(repo, 'dist/cli/main.js'), ...command], { encoding: 'utf8', timeout: 120_000 });
      expect(r.stdout + r.stderr).toContain(':1:199: nesting deeper than 100 levels');
      expect(r.stderr).not.toMatch(/FATAL|at .*\.js:\d+/);
      expect(r.status, r.stderr).toBe(64);
    }
  }, 150_000);

  it('deep flow nesting ([[[[…) too', () => {
    const f = file('flow.yaml', `name: n\nsummary: ${'['.repeat(5000)}\n`);
    expect(errors(f)[0]).toMatch(/^2:\d+: nesting deeper than 100 levels/);
  });

  it('a file over 2 MiB is refused before it is parsed', () => {
    const f = file('big.yaml', `${steps('')}# ${'x'.repeat(2.1 * 1024 * 1024)}\n`);
    expect(errors(f)).toEqual(['1:1: the file is 2.1 MiB; a runbook may be at most 2 MiB (not parsed)']);
  });

  it('a file full of YAML errors keeps the first 100 and counts the rest', () => {
    const text = Array.from({ length: 5000 }, (_, i) => `k${i}: b: c\n`).join('');
    const f = file('errors.yaml', text);
    const list = errors(f);
    expect(list).toHaveLength(MAX_FILE_DIAGNOSTICS + 1);
    expect(list.at(-1)).toMatch(/^\d+:\d+: \d+ more errors in this file not shown \(the first 100 are above\)$/);
  });

  it('a NUL byte, raw or escaped in a scalar, is an error', () => {
    expect(errors(file('nul-raw.yaml', steps('    description: "a\0b"\n')))).toEqual(['7:20: a NUL byte (\\0) is not allowed in a runbook']);
    expect(errors(file('nul-escaped.yaml', steps('    description: "a\\0b"\n')))).toEqual(['7:18: a NUL character (\\0) is not allowed in a runbook value']);
  });

  it('a directory that holds no runbook is an error', () => {
    const empty = path.join(dir, 'empty');
    mkdirSync(empty);
    writeFileSync(path.join(empty, 'notes.txt'), 'x');
    expect(validatePaths([empty]).diagnostics.map((d) => `${d.severity}: ${d.message}`)).toEqual([
      'error: no runbook here: the directory holds no .yaml or .yml file',
    ]);
  });

  it('numeric fields have upper bounds', () => {
    expect(errors(file('retries.yaml', steps('    retries: 1000000\n')))[0]).toMatch(/^7:14: steps\[0\]\.retries: .*1000/);
    expect(errors(file('repeat.yaml', steps('    repeat: { count: 99999999 }\n')))[0]).toMatch(/^7:\d+: steps\[0\]\.repeat\.count: .*10000/);
    expect(errors(file('timeout.yaml', steps('    timeout: 9999h\n')))[0]).toMatch(/^7:14: steps\[0\]\.timeout: a duration may be at most 168h/);
    expect(errors(file('serial.yaml', steps('    serial: 100000000\n')))[0]).toMatch(/^7:13: steps\[0\]\.serial: .*100000/);
    expect(errors(file('ok.yaml', steps('    retries: 1000\n    timeout: 168h\n')))).toEqual([]);
  });
});
