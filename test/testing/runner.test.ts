// The tester on a tiny runbook: replies by step and host pattern, sequences, the fake clock,
// assertions placed at file:line:col, invalid test files (exit 64).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { wrapBecome } from '../../src/shell/become.js';
import { unwrapBecome } from '../../src/testing/assertions.js';
import { loadTestFile } from '../../src/testing/load.js';
import { renderCaseText } from '../../src/testing/report.js';
import { runFileCases, runSuite, suiteExitCode } from '../../src/testing/suite.js';
import { colors } from '../../src/ui/format.js';
import { MINI_INVENTORY, miniProject, removeMiniProjects } from './helpers.js';

afterAll(removeMiniProjects);

const HEAD = `runbook: mini.yaml
inventory: inventory.yaml
returns:
  check: { stdout: "200" }
  restart: { verify: { stdout: "200" } }
cases:
`;

async function run(cases: string) {
  const dir = miniProject({ 'mini.test.yaml': HEAD + cases });
  const file = loadTestFile(join(dir, 'mini.test.yaml'));
  return { results: await runFileCases(file), text: HEAD + cases };
}

function lineOf(text: string, needle: string): number {
  return text.slice(0, text.indexOf(needle)).split('\n').length;
}

describe('remedy test cases', { timeout: 60_000 }, () => {
  it('passes when the run shows what the case expects', async () => {
    const { results } = await run(`
  - name: healthy
    expect: { cause: none, outcome: nothing-to-do, exit_code: 0, ran_exactly: [check, decide, fine], message: Every host answers. }
  - name: w2 down
    returns:
      check: { w2: { stdout: "503" } }
    expect:
      cause: down
      outcome: resolved
      steps: { restart: { w2: changed, w1: skipped, w3: skipped } }
      commands:
        - { step: restart, host: w2, equals: systemctl restart web }
        - { step: check, matches: '127\\.0\\.0\\.1:8080/$' }
      facts: { w2: { code: 503 }, w1: { code: 200 } }
`);
    expect(results.map((r) => [r.name, r.status, r.failures.map((f) => f.message)])).toEqual([
      ['healthy', 'passed', []],
      ['w2 down', 'passed', []],
    ]);
  });

  it('host names win over patterns, patterns apply in file order, a case before the file', async () => {
    const { results } = await run(`
  - name: patterns
    returns:
      check:
        w1: { stdout: "200" }
        east: { stdout: "500" }
        "*": { stdout: "404" }
    expect:
      facts: { w1: { code: 200 }, w2: { code: 500 }, w3: { code: 404 } }
`);
    expect(results[0]?.failures).toEqual([]);
  });

  it('a list of replies answers call after call; waits and timeouts move the fake clock, nothing sleeps', async () => {
    const started = performance.now();
    const { results } = await run(`
  - name: restart retried, verify passes on its third try
    returns:
      check: { w3: { stdout: "503" } }
      restart:
        w3:
          - { exit_code: 1 }
          - { duration: 2s, verify: [{ stdout: "502" }, { stdout: "502" }, { stdout: "200" }] }
    expect:
      outcome: resolved
      steps: { restart: { w3: changed } }
  - name: check times out
    returns:
      check: { w1: { timeout: true } }
    expect: { outcome: failed, steps: { check: { w1: timed-out } } }
`);
    expect(results.map((r) => r.failures)).toEqual([[], []]);
    // 5 s retry delay + 2 s restart + two 3 s verify delays; nothing waited for real.
    expect(results[0]?.fakeMs).toBe(13_000);
    expect(performance.now() - started).toBeLessThan(13_000);
  });

  it('a failing assertion names its line and column and shows expected against actual', async () => {
    const { results, text } = await run(`
  - name: wrong cause
    returns:
      check: { w1: { stdout: "500" } }
    expect:
      cause: none
      steps: { restart: { w1: ok } }
      message: { contains: Every host answers }
`);
    const r = results[0];
    expect(r?.status).toBe('failed');
    expect(r?.failures.map((f) => [f.path.join('.'), f.line, f.expected, f.actual])).toEqual([
      ['expect.cause', lineOf(text, 'cause: none'), 'none', 'down'],
      ['expect.message.contains', lineOf(text, 'message: { contains'), 'Every host answers', 'The service is back on every host.'],
      ['expect.steps.restart.w1', lineOf(text, 'steps: { restart'), 'ok', 'changed'],
    ]);
    const shown = renderCaseText(r as never, colors(false));
    expect(shown).toContain(`mini.test.yaml:${lineOf(text, 'cause: none')}:14: expect.cause: the decided cause differs`);
    expect(shown).toMatch(/- none\n\s+\+ down/);
  });

  it("per host, a case falls back to the file's replies; an unscripted command exits 0 with no output", async () => {
    const { results } = await run(`
  - name: w3 from the file's replies
    returns:
      check: { w1: { stdout: "500" } }
    expect: { cause: down, facts: { w1: { code: 500 }, w3: { code: 200 } } }
`);
    expect(results[0]?.failures).toEqual([]);
    const dir = miniProject({
      'bare.test.yaml':
        'runbook: mini.yaml\ninventory: inventory.yaml\ncases:\n  - name: nothing scripted\n    expect: { cause: down, facts: { w3: { code: 0 } } }\n',
    });
    const bare = await runFileCases(loadTestFile(join(dir, 'bare.test.yaml')));
    expect(bare[0]?.failures).toEqual([]);
  });

  it('--yes off: the mutating step is refused, exit 5', async () => {
    const { results } = await run(`
  - name: refused
    yes: false
    returns:
      check: { w1: { stdout: "500" } }
    expect: { outcome: refused, exit_code: 5, refused: [restart], not_ran: [restart] }
`);
    expect(results[0]?.failures).toEqual([]);
  });

  it('refused_at_plan: inputs refused before anything runs pass; inputs that plan, or another refusal, fail where written', async () => {
    const { results, text } = await run(`
  - name: a port that is no integer
    params: { port: eighty }
    expect:
      refused_at_plan: { contains: 'param port' }
      exit_code: 64
  - name: a good port is not refused
    params: { port: 8081 }
    expect:
      refused_at_plan: { contains: 'param port' }
  - name: refused, but not for what the case says
    params: { port: eighty }
    expect:
      refused_at_plan: { contains: [param port, no such host] }
      exit_code: 3
`);
    expect(results.map((r) => [r.status, r.fakeMs])).toEqual([
      ['passed', 0],
      ['failed', 0],
      ['failed', 0],
    ]);
    expect(results[1]?.failures).toMatchObject([{ message: 'the inputs were not refused: the case planned', actual: '(planned)' }]);
    expect(results[1]?.failures[0]?.line).toBe(lineOf(text, "refused_at_plan: { contains: 'param port' }\n  - name: refused"));
    expect(results[2]?.failures.map((f) => [f.message, f.expected, f.actual])).toEqual([
      ['the refusal does not contain "no such host"', 'no such host', expect.stringContaining('param port')],
      ['the exit code differs', 3, 64],
    ]);
  });
});

describe('an inventory file several test files name', { timeout: 60_000 }, () => {
  it('is read once per suite, and read again once it changes', async () => {
    const expectW4 = `${HEAD}
  - name: w4 is checked too
    expect: { steps: { check: { w4: ok, w1: ok } } }
`;
    const dir = miniProject({ 'a.test.yaml': expectW4, 'b.test.yaml': expectW4 });
    const before = await runSuite([dir]);
    expect(before.cases.map((c) => [c.file.split('/').pop(), c.status])).toEqual([
      ['a.test.yaml', 'failed'],
      ['b.test.yaml', 'failed'],
    ]);
    writeFileSync(join(dir, 'inventory.yaml'), MINI_INVENTORY.replace('            w3:\n', '            w3:\n            w4:\n'));
    const after = await runSuite([dir]);
    expect(after.cases.map((c) => [c.file.split('/').pop(), c.status, c.failures])).toEqual([
      ['a.test.yaml', 'passed', []],
      ['b.test.yaml', 'passed', []],
    ]);
  });
});

describe('invalid test files', { timeout: 60_000 }, () => {
  it('refused_at_plan beside an assertion about a run is invalid: a refused case runs nothing', async () => {
    const dir = miniProject({
      'r.test.yaml': `runbook: mini.yaml\ninventory: inventory.yaml\ncases:\n  - name: both\n    params: { port: x }\n    expect:\n      refused_at_plan: { contains: port }\n      cause: down\n`,
    });
    const suite = await runSuite([dir]);
    expect(suite.invalid.map((d) => `${d.line}:${d.col} ${d.message}`)).toContainEqual(
      expect.stringMatching(/^8:14 cases\.0\.expect\.cause: cause cannot be checked with refused_at_plan/),
    );
    expect(suiteExitCode(suite)).toBe(64);
  });

  it('are reported at file:line:col and make the suite exit 64', async () => {
    const dir = miniProject({
      'bad.test.yaml': `runbook: mini.yaml\ninventory: inventory.yaml\ncases:\n  - name: typo\n    expect:\n      cuase: down\n  - name: bad reply\n    returns:\n      check: { w1: { exit_code: "x" } }\n    expect: {}\n`,
      'good.test.yaml': `runbook: mini.yaml\ninventory: inventory.yaml\nreturns: { check: { stdout: "200" } }\ncases:\n  - name: ok\n    expect: { cause: none }\n`,
    });
    const suite = await runSuite([dir]);
    expect(suite.cases.map((c) => c.status)).toEqual(['passed']);
    const shown = suite.invalid.map((d) => `${d.line}:${d.col} ${d.message}`);
    expect(shown).toContainEqual(expect.stringMatching(/^6:7 cases\.0\.expect\.cuase: unknown key "cuase"/));
    expect(shown).toContainEqual(expect.stringMatching(/^9:33 cases\.1\.returns\.check\.w1\.exit_code: /));
    expect(suiteExitCode(suite)).toBe(64);
  });

  it('a YAML syntax error is a ValidationError with its position', () => {
    const dir = miniProject({ 'syntax.test.yaml': 'runbook: mini.yaml\ncases: [\n' });
    expect(() => loadTestFile(join(dir, 'syntax.test.yaml'))).toThrow(ValidationError);
  });

  it('a case whose runbook is invalid could not run (exit 64), the others still do', async () => {
    const dir = miniProject({
      'broken.yaml': 'name: broken\nsummary: x\nsteps: []\n',
      'b.test.yaml': 'runbook: broken.yaml\ninventory: inventory.yaml\ncases:\n  - name: x\n    expect: {}\n',
    });
    const suite = await runSuite([join(dir, 'b.test.yaml')]);
    expect(suite.cases[0]?.status).toBe('error');
    expect(suite.cases[0]?.error).toMatch(/broken\.yaml:\d+:\d+/);
    expect(suiteExitCode(suite)).toBe(64);
  });
});

describe('commands as authors wrote them', () => {
  it('unwraps the become wrapper to the script inside', () => {
    const script = "tail -n 5 '/var/log/x' | grep -c 'a b'\necho done";
    expect(unwrapBecome(wrapBecome(script, { method: 'sudo', user: 'root' }).command)).toBe(script);
    expect(unwrapBecome(wrapBecome(script, { method: 'runuser', user: 'apigee' }).command)).toBe(script);
    expect(unwrapBecome('echo plain')).toBeNull();
  });
});
