// remedy serve / remedy worker at the CLI's edge: bad input is a message and exit 64 (an invalid
// policy as file:line:col), an unreachable Redis a clear error, never a stack trace.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
let dir: string;

function remedy(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1', ...env } });
  return { code: r.status, err: r.stderr };
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\``);
  dir = mkdtempSync(join(tmpdir(), 'remedy-serve-cli-'));
  writeFileSync(join(dir, 'bad.yaml'), 'auth:\n  tokens:\n    - { name: a, env: A, role: root }\nroutes: []\n');
  writeFileSync(
    join(dir, 'ok.yaml'),
    'auth:\n  tokens:\n    - { name: a, env: REMEDY_TEST_UNSET_TOKEN, role: hook }\nroutes:\n  - { match: { a: b }, runbook: x, inventory: y }\n',
  );
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('serve and worker: bad input', { timeout: 120_000 }, () => {
  it('an invalid policy: every problem as file:line:col, exit 64', () => {
    const r = remedy(['serve', '--policy', 'bad.yaml', '--data', join(dir, 'd1')]);
    expect(r.code).toBe(64);
    expect(r.err).toContain('bad.yaml:3:32: auth.tokens[0].role: expected one of hook, viewer, operator, admin, got "root"');
    expect(r.err).toContain('bad.yaml:4:9: routes needs at least one route');
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('a missing policy file, a token whose variable is unset, a bad --listen, a bad --redis URL: exit 64', () => {
    expect(remedy(['serve', '--policy', 'nope.yaml']).err).toMatch(/nope\.yaml:1:1: cannot read the policy: ENOENT/);
    const unset = remedy(['serve', '--policy', 'ok.yaml', '--data', join(dir, 'd2')]);
    expect(unset.code).toBe(64);
    expect(unset.err).toMatch(/token a \(REMEDY_TEST_UNSET_TOKEN\): environment variable not set or empty/);
    const listen = remedy(['serve', '--policy', 'ok.yaml', '--listen', 'everywhere'], { REMEDY_TEST_UNSET_TOKEN: 'x' });
    expect([listen.code, listen.err]).toEqual([64, expect.stringMatching(/--listen: expected HOST:PORT/)]);
    const url = remedy(['worker', '--redis', 'not a url', '--queue', 'dc-1']);
    expect([url.code, url.err]).toEqual([64, expect.stringMatching(/--redis: not a URL/)]);
    const queue = remedy(['worker', '--redis', 'redis://127.0.0.1:1', '--queue', 'dc 1']);
    expect([queue.code, queue.err]).toEqual([64, expect.stringMatching(/--queue: letters, digits/)]);
  });

  it('an unreachable Redis: a clear error within seconds, exit 1', () => {
    const r = remedy(['worker', '--redis', 'redis://127.0.0.1:1', '--queue', 'dc-1', '--data', join(dir, 'd3')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot reach Redis \(redis:\/\/127\.0\.0\.1:1\) within 10 s/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});
