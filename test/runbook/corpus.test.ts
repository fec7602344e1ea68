// The validator against a corpus: every broken runbook under fixtures/runbooks/invalid/ names its
// expected diagnostic on its first line (`# expect: [FILE:]LINE:COL substring`); every runbook
// under valid/ and every shipped runbook validates.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDiagnostic, type Diagnostic } from '../../src/errors.js';
import { validateFiles } from '../../src/runbook/index.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = path.join(repo, 'test/fixtures/runbooks');
const invalidDir = path.join(fixtures, 'invalid');
const EXPECT = /^# expect: (?:(\S+\.ya?ml):)?(\d+):(\d+) (.+)$/;

interface Case {
  name: string;
  file: string;
  expectFile: string;
  line: number;
  col: number;
  message: string;
}

const cases: Case[] = readdirSync(invalidDir)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((name) => {
    const file = path.join(invalidDir, name);
    const first = readFileSync(file, 'utf8').split('\n')[0] ?? '';
    const m = EXPECT.exec(first);
    if (!m) throw new Error(`${name}: the first line must be "# expect: LINE:COL message", got ${JSON.stringify(first)}`);
    return { name, file, expectFile: m[1] ? path.join(invalidDir, m[1]) : file, line: Number(m[2]), col: Number(m[3]), message: m[4] as string };
  });

const show = (ds: Diagnostic[]): string => ds.map(formatDiagnostic).join('\n') || '(no diagnostics)';

describe('invalid runbooks', () => {
  it('the corpus has at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases)('$name is rejected at the expected line:col', (c) => {
    const diagnostics = validateFiles([c.file]);
    const hit = diagnostics.find(
      (d) => d.severity === 'error' && path.resolve(repo, d.file) === c.expectFile && d.line === c.line && d.col === c.col && d.message.includes(c.message),
    );
    expect(hit, `expected ${c.line}:${c.col} ${c.message}\ngot:\n${show(diagnostics)}`).toBeDefined();
  });
});

describe('valid runbooks', () => {
  it('the fixtures (every step kind and control) validate without a single diagnostic', () => {
    const diagnostics = validateFiles([path.join(fixtures, 'valid')]);
    expect(show(diagnostics)).toBe('(no diagnostics)');
  });

  const shipped = path.join(repo, 'runbooks');
  const shippedFiles = (function walk(dir: string): string[] {
    return readdirSync(dir).flatMap((f) => {
      const p = path.join(dir, f);
      return statSync(p).isDirectory() ? walk(p) : p.endsWith('.yaml') && !p.endsWith('.test.yaml') ? [p] : [];
    });
  })(shipped);

  it('every shipped runbook validates (warnings allowed) and declares its JSON Schema', { timeout: 60_000 }, () => {
    expect(shippedFiles.length).toBeGreaterThan(0);
    const errors = validateFiles([shipped]).filter((d) => d.severity === 'error');
    expect(show(errors)).toBe('(no diagnostics)');
    for (const f of shippedFiles) {
      const schema = f.endsWith('.vars.yaml') ? 'vars' : 'runbook';
      expect(readFileSync(f, 'utf8').split('\n')[0], f).toMatch(new RegExp(String.raw`^# yaml-language-server: \$schema=\S+${schema}\.schema\.json$`));
    }
  });
});

describe('remedy validate (built CLI)', () => {
  // Built with the build config into a private directory (package.json, node_modules and the
  // shipped runbooks linked in), so a concurrent `npm run build` cannot swap dist/ mid-test.
  const buildRoot = mkdtempSync(path.join(tmpdir(), 'remedy-validate-cli-'));
  const main = path.join(buildRoot, 'dist/cli/main.js');
  beforeAll(() => {
    for (const f of ['package.json', 'node_modules', 'runbooks']) symlinkSync(path.join(repo, f), path.join(buildRoot, f));
    const r = spawnSync(
      process.execPath,
      [path.join(repo, 'node_modules/typescript/bin/tsc'), '-p', path.join(repo, 'tsconfig.build.json'), '--outDir', path.join(buildRoot, 'dist')],
      {
        cwd: repo,
        encoding: 'utf8',
        timeout: 110_000,
      },
    );
    // Other work in progress may have type errors: tsc still emits, and the CLI is what is tested.
    expect(existsSync(main), `tsc -p tsconfig.build.json did not emit the CLI:\n${r.stdout}${r.stderr}`).toBe(true);
  }, 120_000);
  afterAll(() => rmSync(buildRoot, { recursive: true, force: true }));

  function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [main, ...args], { cwd: repo, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  const sample = [
    'yaml-unclosed-quote',
    'yaml-duplicate-key',
    'schema-two-actions',
    'schema-unknown-step-key',
    'ref-fact-not-captured',
    'ref-goto-nowhere',
    'cel-syntax',
    'pattern-dangling-and',
    'param-default-type',
    'include-self-cycle',
  ];
  it.each(sample)('%s: exit 64, file:line:col: message, no stack trace', (name) => {
    const c = cases.find((x) => x.name === `${name}.yaml`) as Case;
    const rel = path.relative(repo, c.file);
    const r = cli('validate', rel);
    expect(r.status).toBe(64);
    expect(r.stdout).toContain(`${path.relative(repo, c.expectFile)}:${c.line}:${c.col}: `);
    expect(r.stdout).toContain(c.message);
    expect(r.stdout).toMatch(/^1 of 1 runbook invalid: \d+ errors?, \d+ warnings?$/m);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/^\s{4}at /m);
  });

  it('the whole invalid corpus at once: one line per problem, exit 64', () => {
    const r = cli('validate', path.relative(repo, invalidDir));
    expect(r.status).toBe(64);
    for (const c of cases) expect(r.stdout).toContain(`${path.relative(repo, c.expectFile)}:${c.line}:${c.col}: `);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/^\s{4}at /m);
  });

  it('valid runbooks: exit 0 and a summary line', () => {
    const r = cli('validate', 'test/fixtures/runbooks/valid');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('4 runbooks and 1 vars file valid, 0 warnings\n');
  });

  it('warnings are marked and do not fail the run', () => {
    const r = cli('validate', 'runbooks', '-i', 'inventory/example.yaml');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    for (const line of r.stdout.trim().split('\n').slice(0, -1)) expect(line).toMatch(/^runbooks\/\S+\.yaml:\d+:\d+: warning: /);
    expect(r.stdout).toMatch(/\d+ runbooks and 1 vars file valid, \d+ warnings?\n$/);
  });

  it('--format json lists every diagnostic', () => {
    const r = cli('validate', '--format', 'json', 'test/fixtures/runbooks/invalid/ref-duplicate-id.yaml');
    expect(r.status).toBe(64);
    const out = JSON.parse(r.stdout) as { valid: boolean; errors: number; diagnostics: Diagnostic[] };
    expect(out.valid).toBe(false);
    expect(out.diagnostics[0]).toMatchObject({ file: 'test/fixtures/runbooks/invalid/ref-duplicate-id.yaml', line: 8, col: 9, severity: 'error' });
  });

  it('a missing file is a diagnostic too, not a crash', () => {
    const r = cli('validate', 'no/such/file.yaml');
    expect(r.status).toBe(64);
    expect(r.stdout).toContain('no/such/file.yaml:1:1: no such file');
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/^\s{4}at /m);
  });
});
