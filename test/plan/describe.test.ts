// Each kind describes itself (src/plan/describe.ts): the renderers and the reports read these
// descriptions instead of switching on kind, so what they print for decide and outcome steps
// comes from here.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../src/inventory/load.js';
import { describeStep, kindChecksHosts } from '../../src/plan/describe.js';
import { planRunbook, renderPlanMarkdown, renderPlanText } from '../../src/plan/index.js';
import type { PlanStep } from '../../src/plan/types.js';
import { loadRunbook } from '../../src/runbook/index.js';

const ROOT = join(import.meta.dirname, '../..');
const { loaded } = loadRunbook(join(ROOT, 'runbooks/apigee/apigee-502-bad-gateway.yaml'));
const plan = planRunbook({ loaded, inventory: parseInventory('all: {}\n', '(none)', { format: 'yaml' }), overrides: {} });
const stepOf = (kind: PlanStep['kind']): PlanStep => {
  const step = plan.steps.find((s) => s.kind === kind);
  if (!step) throw new Error(`the 502 runbook has no ${kind} step`);
  return step;
};

describe('step descriptions', () => {
  it('a decide step is a decision listing each cause with its condition, then the default', () => {
    const step = stepOf('decide');
    if (step.kind !== 'decide') throw new Error('not a decide step');
    const d = describeStep(step);
    expect(d.shape).toBe('decision');
    const spec = step.templates.decide;
    expect(d.details).toEqual([
      ...spec.causes.map((c) => ({ kind: 'cause', cause: c.cause, when: c.when, summary: c.summary ?? null })),
      { kind: 'cause', cause: spec.default, when: null, summary: null },
    ]);
  });

  it('an outcome step ends the run, labelled by its status', () => {
    const step = stepOf('outcome');
    if (step.kind !== 'outcome') throw new Error('not an outcome step');
    const d = describeStep(step);
    expect(d.shape).toBe('end');
    expect(d.label).toBe(`${step.templates.outcome.status}: ${step.name}`);
    expect(d.details).toEqual([{ kind: 'ends', status: step.templates.outcome.status, message: step.templates.outcome.message.trim() }]);
  });

  it('host kinds are plain steps; only run and wait check hosts, and an unknown kind checks nothing', () => {
    expect(describeStep(stepOf('run'))).toEqual({ shape: 'step', details: [], label: null });
    expect(['run', 'wait', 'properties', 'fetch', 'pause', 'bundle', 'decide', 'outcome'].filter(kindChecksHosts)).toEqual(['run', 'wait']);
    expect(kindChecksHosts('include')).toBe(false);
    expect(kindChecksHosts('toString')).toBe(false);
  });

  it("the plan's text and Markdown print the descriptions", () => {
    const step = stepOf('decide');
    if (step.kind !== 'decide') throw new Error('not a decide step');
    const first = step.templates.decide.causes[0];
    if (!first) throw new Error('no cause');
    const text = renderPlanText(plan, { color: false });
    expect(text).toContain(`→ ${first.cause} if ${first.when}`);
    expect(text).toContain(`→ ${step.templates.decide.default} otherwise`);
    const md = renderPlanMarkdown(plan);
    expect(md).toContain(`- **→ ${first.cause}** if \`${first.when}\``);
    expect(md).toContain(`- **→ ${step.templates.decide.default}** otherwise`);
  });
});
