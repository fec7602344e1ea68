// A --limit that leaves out hosts the runbook targets makes a scoped verdict: the run-start, the
// outcome message, result.json, the recap and the reports all say which hosts it covers, so an
// exit 0 of `--limit dc_2` never reads as fleet-wide.
import { describe, expect, test } from 'vitest';
import { renderReportMarkdown } from '../../src/journal/report-markdown.js';
import { buildReportModel } from '../../src/journal/report-model.js';
import { buildResult } from '../../src/journal/result.js';
import { computeRecap, renderRecap } from '../../src/ui/recap.js';
import { FakeFleet, planOf, runPlan } from './helpers.js';

const runbook = `
name: t
summary: an all-clear over whatever the limit keeps
steps:
  - id: probe
    name: probe
    hosts: mps
    run: probe
    capture:
      code: { regex: 'code=(\\d+)', as: integer, default: 0 }
  - id: diagnose
    name: diagnose
    decide:
      causes:
        - cause: none
          when: hosts('mps').filter(m, has(m.facts.code)).all(m, m.facts.code == 200)
      default: unknown
  - id: healthy
    name: healthy
    when: cause == "none"
    outcome:
      status: nothing-to-do
      require: hosts('mps').filter(m, has(m.facts.code)).all(m, m.facts.code == 200)
      message: "Every MP ({{ steps.probe.ok | join: ', ' }}) answered 200."
  - id: unknown
    name: unknown
    when: cause == "unknown"
    outcome: { status: escalate, message: "Not every MP answered 200." }
`;

describe('a --limit that leaves hosts out scopes the verdict', () => {
  test('the plan, run-start, message, result.json, recap and report say what the verdict covers', async () => {
    const { plan, inventory } = planOf(runbook, { limit: 'mp1:mp2' });
    expect(plan.limit).toEqual({ pattern: 'mp1:mp2', excluded: ['mp3', 'mp4'] });
    const ran = await runPlan(plan, inventory, new FakeFleet().on('probe', { stdout: 'code=200' }));
    const sentence = "This verdict covers only --limit 'mp1:mp2' (mp1, mp2); not looked at: mp3, mp4.";
    expect(ran.result).toMatchObject({ outcome: 'nothing-to-do', exitCode: 0 });
    expect(ran.result.message).toBe(`Every MP (mp1, mp2) answered 200. ${sentence}`);
    expect(ran.of('run-start')[0]?.scope).toEqual({ limit: 'mp1:mp2', hosts: ['mp1', 'mp2'], excluded: ['mp3', 'mp4'] });
    const result = buildResult(ran.events);
    expect(result.scope).toEqual({ limit: 'mp1:mp2', hosts: ['mp1', 'mp2'], excluded: ['mp3', 'mp4'] });
    expect(result.message).toContain(sentence);
    expect(renderRecap(computeRecap(ran.events))).toContain("scope: --limit 'mp1:mp2' only; not looked at: mp3, mp4");
    const md = renderReportMarkdown(buildReportModel(ran.events));
    expect(md).toContain('**Scope: --limit `mp1:mp2`.** This verdict covers only mp1, mp2; not looked at: mp3, mp4.');
  });

  test("no limit, or a limit that keeps every targeted host: no scope, the message is the runbook's", async () => {
    for (const limit of [undefined, 'mps']) {
      const { plan, inventory } = planOf(runbook, limit === undefined ? {} : { limit });
      expect(plan.limit === null ? null : plan.limit.excluded).toEqual(limit === undefined ? null : []);
      const ran = await runPlan(plan, inventory, new FakeFleet().on('probe', { stdout: 'code=200' }));
      expect(ran.result.message).toBe('Every MP (mp1, mp2, mp3, mp4) answered 200.');
      expect(ran.of('run-start')[0]?.scope).toBeUndefined();
      expect(buildResult(ran.events).scope).toBeNull();
      expect(renderRecap(computeRecap(ran.events))).not.toContain('scope:');
    }
  });

  test('a limited run that escalates says its scope too', async () => {
    const { plan, inventory } = planOf(runbook, { limit: 'mp3' });
    const ran = await runPlan(plan, inventory, new FakeFleet().on('probe', { stdout: 'code=000' }));
    expect(ran.result.exitCode).toBe(3);
    expect(ran.result.message).toMatch(/not looked at: mp1, mp2, mp4\.$/);
  });

  test('the limit is part of the plan hash (an approval of a scoped plan is not one of the whole fleet)', () => {
    expect(planOf(runbook, { limit: 'mp1:mp2' }).plan.planHash).not.toBe(planOf(runbook, { limit: 'mp1:mp3' }).plan.planHash);
  });
});
