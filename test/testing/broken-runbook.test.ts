// The tester tested: copies of the shipped 502 runbook with a deliberate mistake must fail the
// shipped suite, with a diff a runbook author can read, at the assertion's file:line:col.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderCaseText } from '../../src/testing/report.js';
import { runSuite, suiteExitCode, type SuiteResult } from '../../src/testing/suite.js';
import { colors } from '../../src/ui/format.js';

const ROOT = join(import.meta.dirname, '../..');
const RUNBOOK = 'runbooks/apigee/apigee-502-bad-gateway.yaml';
const SUITE = 'runbooks/apigee/tests/apigee-502-bad-gateway.test.yaml';

const copies: string[] = [];
afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

/** runbooks/ and inventory/ copied to a temp dir, the 502 runbook edited by `mutate`. */
function brokenCopy(mutate: (text: string) => string, file = RUNBOOK): string {
  const dir = mkdtempSync(join(tmpdir(), 'remedy-broken-'));
  copies.push(dir);
  cpSync(join(ROOT, 'runbooks'), join(dir, 'runbooks'), { recursive: true });
  cpSync(join(ROOT, 'inventory'), join(dir, 'inventory'), { recursive: true });
  const original = readFileSync(join(ROOT, file), 'utf8');
  const broken = mutate(original);
  expect(broken).not.toBe(original);
  writeFileSync(join(dir, file), broken);
  return dir;
}

function failedText(suite: SuiteResult): string {
  return suite.cases
    .filter((c) => c.status !== 'passed')
    .map((c) => renderCaseText(c, colors(false)))
    .join('');
}

/** The `when:` of a cause in the decide step (one line, or a folded block up to the next key). */
function causeCondition(text: string, cause: string): string {
  const m = new RegExp(`- cause: ${cause}\\n\\s+summary: [^\\n]*\\n(\\s+when: (?:>-\\n(?:\\s{12,}[^\\n]*\\n)+|[^\\n]*\\n))`).exec(text);
  if (!m?.[1]) throw new Error(`no condition for ${cause}`);
  return m[1];
}

describe('a deliberately broken 502 runbook fails its suite', { timeout: 120_000 }, () => {
  it('with two causes’ conditions swapped: the decided cause differs, shown as a diff', async () => {
    const dir = brokenCopy((text) => {
      const down = causeCondition(text, 'mps-down');
      const busy = causeCondition(text, 'mps-busy');
      return text.replace(down, '\u0000').replace(busy, down).replace('\u0000', busy);
    });
    const suite = await runSuite([join(dir, SUITE)]);
    expect(suiteExitCode(suite)).toBe(1);
    const shown = failedText(suite);
    const suiteText = readFileSync(join(ROOT, SUITE), 'utf8');
    // The "one MP down" case now decides mps-busy: the cause assertion fails where it is written.
    const caseStart = suiteText.indexOf('- name: one MP down in dc-1');
    const line = suiteText.slice(0, suiteText.indexOf('cause: mps-down', caseStart)).split('\n').length;
    expect(shown).toContain(`✗ ${join(dir, SUITE).replace(`${process.cwd()}/`, '')} › one MP down in dc-1 — restarted alone, rolling`);
    expect(shown).toMatch(
      new RegExp(
        `apigee-502-bad-gateway\\.test\\.yaml:${line}:14: expect\\.cause: the decided cause differs\\n\\s+- expected\\s+\\+ actual\\n\\s+- mps-down\\n\\s+\\+ mps-busy`,
      ),
    );
    expect(suite.cases.filter((c) => c.status === 'failed').length).toBeGreaterThanOrEqual(5);
  });

  it('with `mutates: true` removed from the MP restart every runbook includes: the --yes guard case fails', async () => {
    const dir = brokenCopy((text) => {
      const start = text.indexOf('- id: restart');
      const at = text.indexOf('    mutates: true\n', start);
      return text.slice(0, at) + text.slice(at + '    mutates: true\n'.length);
    }, 'runbooks/apigee/apigee-mp-rolling-restart.yaml');
    const suite = await runSuite([join(dir, SUITE)]);
    expect(suiteExitCode(suite)).toBe(1);
    const guard = suite.cases.find((c) => c.name.startsWith('without --yes a whole region is not started'));
    expect(guard?.status).toBe('failed');
    const shown = failedText(suite);
    expect(shown).toMatch(/expect\.outcome: the outcome differs\n\s+- expected\s+\+ actual\n\s+- refused\n\s+\+ resolved/);
    expect(shown).toMatch(/expect\.exit_code: the exit code differs\n\s+- expected\s+\+ actual\n\s+- 5\n\s+\+ 0/);
    expect(shown).toMatch(/expect\.refused\.0: step restart_region_all_down\.restart did not get refused/);
  });
});
