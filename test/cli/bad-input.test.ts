// Bad input at the CLI's edge: a clear message, exit 64, never a stack trace.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const INV = 'inventory/example.yaml';
let dir: string;

function remedy(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`);
  dir = mkdtempSync(join(tmpdir(), 'remedy-cli-'));
  writeFileSync(join(dir, 'broken.yaml'), 'all:\n  hosts:\n    a: [1\n');
});

describe('bad input exits 64 with a message and no stack trace', () => {
  const cases: [string, () => string[], RegExp][] = [
    ['unknown runbook', () => ['plan', 'nosuch', '-i', INV], /runbook not found: nosuch/],
    ['missing inventory', () => ['plan', 'apigee-502-bad-gateway', '-i', 'nosuch.yaml'], /inventory not found/],
    ['broken inventory', () => ['plan', 'apigee-502-bad-gateway', '-i', join(dir, 'broken.yaml')], /broken\.yaml:4:1: /],
    ['param of the wrong type', () => ['plan', 'apigee-502-bad-gateway', '-i', INV, '-e', 'log_lines=abc'], /log_lines: expected an integer/],
    ['unknown param', () => ['plan', 'apigee-502-bad-gateway', '-i', INV, '-e', 'bogus=1'], /unknown param "bogus"/],
    ['bad --limit pattern', () => ['plan', 'apigee-502-bad-gateway', '-i', INV, '--limit', 'dc_1:&'], /invalid host pattern/],
    ['bad --forks', () => ['run', 'apigee-502-bad-gateway', '-i', INV, '--forks', '0'], /--forks: expected a whole number/],
    ['bad --format', () => ['plan', 'apigee-502-bad-gateway', '-i', INV, '--format', 'xml'], /invalid/],
    ['unknown command', () => ['bogus'], /unknown command/],
    ['no command at all (bare remedy): the help, as a usage error', () => [], /Usage: remedy \[options\] \[command\]/],
    ['--limit that matches no host', () => ['plan', 'apigee-502-bad-gateway', '-i', INV, '--limit', 'rooters'], /matches no host .*did you mean "routers"/],
  ];
  for (const [name, args, message] of cases) {
    it(name, () => {
      const r = remedy(...args());
      expect(r.code, r.err).toBe(64);
      expect(r.err).toMatch(message);
      expect(r.err).not.toMatch(/^\s+at /m);
    });
  }

  it('plan-hash mismatch refuses before contacting anything (exit 5)', () => {
    const r = remedy('run', 'apigee-502-bad-gateway', '-i', INV, '--yes', '--plan-hash', 'sha256:0000', '--run-dir', join(dir, 'run'));
    expect(r.code, r.err).toBe(5);
    expect(r.err).toMatch(/not the approved sha256:0000/);
    expect(existsSync(join(dir, 'run'))).toBe(false);
  });
});
