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
  it('-f is --format on every command that has it, and never --forks', () => {
    for (const command of ['run', 'guide', 'resume', 'plan', 'report', 'validate']) {
      const help = remedy(ROOT, command, '--help').out;
      const f = help.split('\n').filter((l) => /(^|\s)-f,/.test(l));
      for (const line of f) expect(line, `${command}: ${line}`).toMatch(/-f, --format/);
      expect(help, command).not.toMatch(/-f, --forks/);
    }
    const r = remedy(ROOT, 'run', 'apigee-502-bad-gateway', '-i', INV, '-f', 'json');
    expect(r.code).toBe(64);
    expect(r.err.split('\n')[0]).toBe("error: unknown option '-f'");
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
    const line = applyCommand({ runbook: 'rb', inventory: 'my inv.yaml', extraVars: ["note=it's", 'token=s3cret', '@vars.yaml'], secretParams: ['token'], planHash: 'sha256:ab' });
    expect(line).toBe(`remedy run rb -i 'my inv.yaml' -e 'note=it'\\''s' -e "token=$TOKEN" -e @vars.yaml --yes --plan-hash sha256:ab`);
    expect(line).not.toContain('s3cret');
  });
});
