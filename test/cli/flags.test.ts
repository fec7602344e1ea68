// One meaning per short flag, commands that need only what they use, and hints a person can paste.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCommand } from '../../src/cli/next-command.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const INV = 'inventory/example.yaml';
let elsewhere: string;

function remedy(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`);
  elsewhere = mkdtempSync(join(tmpdir(), 'remedy-flags-'));
});
afterAll(() => rmSync(elsewhere, { recursive: true, force: true }));

describe('short flags', () => {
  it('-f is --format on every command that has an output format, and never --forks', () => {
    for (const command of ['run', 'guide', 'resume', 'plan', 'report', 'test']) {
      const help = remedy(ROOT, command, '--help').out;
      expect(help, command).toMatch(/^ {2}-f, --format <format>/m);
      expect(help, command).not.toMatch(/-f, --forks/);
    }
    // run's console output: -f names it as plan's and report's -f name theirs.
    const r = remedy(ROOT, 'run', 'apigee-502-bad-gateway', '-i', INV, '-f', 'json');
    expect(r.code).toBe(64);
    expect(r.err.split('\n')[0]).toBe("error: option '-f, --format <format>' argument 'json' is invalid. Allowed choices are text, jsonl.");
    // --output, its older name, still works; the two disagreeing is refused before anything runs.
    const both = remedy(ROOT, 'run', 'apigee-502-bad-gateway', '-i', INV, '-f', 'jsonl', '--output', 'text');
    expect(both.code).toBe(64);
    expect(both.err.trim()).toBe('remedy: --format jsonl and --output text disagree: give one of them');
    expect(both.out).toBe('');
  }, 60_000);

  it('-f jsonl gives JSON lines (remedy test, offline)', () => {
    for (const flag of ['-f', '--output']) {
      const r = remedy(ROOT, 'test', 'runbooks/apigee/tests/apigee-router-truststore.test.yaml', flag, 'jsonl');
      expect(r.code, r.err).toBe(0);
      const lines = r.out
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string });
      expect(lines.length).toBeGreaterThan(1);
      expect(lines.at(-1)?.type).toBe('summary');
    }
  }, 60_000);
});

describe('remedy graph', () => {
  it('draws the runbook outside the repository, with no inventory', () => {
    const r = remedy(elsewhere, 'graph', join(ROOT, 'runbooks/apigee/apigee-502-bad-gateway.yaml'));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^flowchart/m);
    expect(r.out).toMatch(/mps-down/);
  }, 20_000);
});

describe('the next command', () => {
  it('plan ends with the complete run command, plan hash included, that the run accepts', () => {
    const r = remedy(ROOT, 'plan', 'apigee-502-bad-gateway', '-i', INV, '-l', 'dc_1', '-e', 'log_lines=20');
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    const hash = /plan hash\s+(\S+)/.exec(r.out)?.[1];
    expect(lines.at(-1)?.trim()).toBe(`remedy run apigee-502-bad-gateway -i ${INV} -l dc_1 -e log_lines=20 --yes --plan-hash ${hash}`);
  }, 20_000);

  it('quotes what the shell would split and keeps secrets in the environment', () => {
    const line = applyCommand({
      runbook: 'rb',
      inventory: 'my inv.yaml',
      extraVars: ["note=it's", 'token=s3cret', '@vars.yaml'],
      secretParams: ['token'],
      planHash: 'sha256:ab',
    });
    expect(line).toBe(`remedy run rb -i 'my inv.yaml' -e 'note=it'\\''s' -e "token=$TOKEN" -e @vars.yaml --yes --plan-hash sha256:ab`);
    expect(line).not.toContain('s3cret');
  });
});
