// `remedy graph` is the executor's control flow: the graph is built with the executor's own
// transition function and condition evaluator, so every shipped `remedy test` case (real planner
// and executor, scripted hosts) must have started its steps along a path of the graph, under the
// cause it decided; and the wrong tree issue 9 saw is gone. The lab e2e (apigee-502.e2e) checks
// the same for every lab scenario over real SSH.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/engine/events.js';
import { loadInventory } from '../../src/inventory/index.js';
import { parseInventory } from '../../src/inventory/load.js';
import { planRunbook, renderPlanMermaid } from '../../src/plan/index.js';
import { GRAPH_ENDS, graphPathProblem, stepGraph, type StepGraph } from '../../src/plan/step-graph.js';
import { loadRunbook } from '../../src/runbook/index.js';
import { loadTestFile } from '../../src/testing/load.js';
import { CaseInputs, planCase, runCase } from '../../src/testing/run-case.js';

const ROOT = join(import.meta.dirname, '../..');
const TESTS = join(ROOT, 'runbooks/apigee/tests');

function graphOf(runbook: string): StepGraph {
  const { loaded } = loadRunbook(join(ROOT, 'runbooks/apigee', `${runbook}.yaml`));
  return stepGraph(planRunbook({ loaded, inventory: parseInventory('all: {}\n', '(none)', { format: 'yaml' }), overrides: {} }));
}

const targets = (g: StepGraph, from: string, cause?: string): string[] =>
  g.edges.filter((e) => e.from === from && (cause === undefined || e.causes.includes(cause))).map((e) => e.to);

/** The steps a run started, in order (a rolling step's later batches are the same visit). */
function startedSteps(events: readonly RunEvent[]): string[] {
  return events.filter((e): e is Extract<RunEvent, { type: 'step-start' }> => e.type === 'step-start' && (e.batch ?? 1) === 1).map((e) => e.step);
}

describe("the 502 graph is the executor's", () => {
  const g = graphOf('apigee-502-bad-gateway');

  it('backend_evidence leads only to the backend hand-over; verify_routers does not dead-end; mps-busy goes through the dumps and the restart', () => {
    expect(targets(g, 'backend_evidence', 'backend-error')).toEqual(['escalate_backend']);
    expect(targets(g, 'escalate_backend')).toEqual([GRAPH_ENDS.escalated]);
    expect(targets(g, 'verify_routers', 'mps-busy')).toContain('monitor');
    expect(targets(g, 'verify_routers', 'mps-down')).toContain('resolved');
    expect(targets(g, 'verify_routers', 'mps-down')).not.toContain('monitor');
    expect(targets(g, 'diagnose', 'mps-busy')).not.toContain('monitor');
    expect(targets(g, 'diagnose', 'mps-busy')).toContain('busy_dumps.locate');
    for (const t of targets(g, 'monitor')) expect(['backend_evidence', 'partly_fixed', 'resolved']).toContain(t);
    expect(targets(g, 'support_evidence.support_bundle', 'mps-busy')).toContain('restart_busy_mps.restart');
    // none and unknown change nothing: no mutating step follows the decision on those branches.
    for (const cause of ['none', 'unknown']) {
      const next = targets(g, 'diagnose', cause);
      expect(next).toContain(cause === 'none' ? 'healthy' : 'escalate_unknown');
      for (const t of next) expect(g.nodes.find((n) => n.id === t)?.step?.mutates ?? false, `${cause} → ${t}`).toBe(false);
      expect(next).not.toContain('resolved');
    }
    // An all-clear that is not proven escalates.
    expect(targets(g, 'healthy').sort()).toEqual([GRAPH_ENDS['nothing-to-do'], GRAPH_ENDS.escalated].sort());
  });

  it('the TLS fix that fails its Router check rolls back the MPs, then the Routers, then fails', () => {
    expect(targets(g, 'tls_fix.restart_routers')).toEqual(expect.arrayContaining(['verify_routers', 'tls_fix.restore_mp_properties']));
    expect(targets(g, 'tls_fix.restore_mp_properties')).toEqual(['tls_fix.regenerate_router_confd']);
    expect(targets(g, 'tls_fix.regenerate_router_confd')).toEqual([GRAPH_ENDS.failed]);
  });

  it("the mermaid drawing has the graph's edges and labels the causes", () => {
    const m = renderPlanMermaid(
      planRunbook({
        loaded: loadRunbook(join(ROOT, 'runbooks/apigee/apigee-502-bad-gateway.yaml')).loaded,
        inventory: parseInventory('all: {}\n', '(none)', { format: 'yaml' }),
        overrides: {},
      }),
    );
    const arrows = m.split('\n').filter((l) => /-->|-\.->/.test(l));
    expect(arrows).toHaveLength(g.edges.length);
    expect(m).toMatch(/-->\|"mps-busy"\| \w+\n/);
    expect(m).toContain('-.->|"require does not hold"|');
  });

  it('planned with --limit routers: the MP steps select no host, so the graph goes round them', () => {
    const { loaded } = loadRunbook(join(ROOT, 'runbooks/apigee/apigee-502-bad-gateway.yaml'));
    const limited = stepGraph(planRunbook({ loaded, inventory: loadInventory(join(ROOT, 'inventory/example.yaml')), overrides: {}, limit: 'routers' }));
    expect(targets(limited, 'router_confd')).toEqual(['diagnose']);
    expect(graphPathProblem(limited, ['router_probe', 'router_confd', 'diagnose', 'escalate_unknown'], 'unknown')).toBeNull();
    expect(targets(g, 'router_confd')).toEqual(['mp_status']);
  });

  it('a path the executor does not take is refused by the path check, with what the graph draws', () => {
    expect(graphPathProblem(g, ['router_probe', 'router_confd', 'mp_status', 'diagnose', 'backend_evidence', 'resolved'], 'backend-error')).toMatch(
      /backend_evidence → resolved/,
    );
    expect(graphPathProblem(g, ['router_probe', 'router_confd', 'mp_status', 'diagnose', 'monitor'], 'mps-busy')).toMatch(/diagnose → monitor/);
    expect(graphPathProblem(g, ['router_probe', 'router_confd', 'mp_status', 'diagnose', 'backend_evidence', 'escalate_backend'], 'backend-error')).toBeNull();
  });
});

describe('a path past the last step', () => {
  it('ends the run by what ran before any decision, and escalates once a cause was decided (no outcome step reached)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'remedy-graph-')), 'rb.yaml');
    writeFileSync(
      file,
      `
name: t
summary: one cause has an outcome, the other has none
steps:
  - id: look
    name: look
    hosts: all
    run: look
    capture: { level: { as: integer } }
  - id: diagnose
    name: decide
    decide:
      causes:
        - cause: high
          when: hosts("all").exists(h, h.facts.level > 5)
      default: none
  - id: low
    name: low
    when: cause == "none"
    outcome: { status: nothing-to-do, message: low }
`,
    );
    const plan = planRunbook({
      loaded: loadRunbook(file).loaded,
      inventory: parseInventory('all: { hosts: { h1: {} } }\n', '(none)', { format: 'yaml' }),
      overrides: {},
    });
    const g = stepGraph(plan);
    expect(targets(g, 'diagnose', 'high')).toEqual([GRAPH_ENDS.escalated]);
    expect(targets(g, 'diagnose', 'none')).toEqual(['low']);
    expect(g.nodes.map((n) => n.id)).not.toContain(GRAPH_ENDS.end);
  });
});

describe("every shipped remedy test case runs along a path of its runbook's graph", () => {
  const files = readdirSync(TESTS).filter((f) => f.endsWith('.test.yaml'));
  for (const name of files) {
    it(name, { timeout: 60_000 }, async () => {
      const file = loadTestFile(join(TESTS, name));
      const inputs = new CaseInputs(file);
      let checked = 0;
      for (let i = 0; i < file.data.cases.length; i++) {
        // A case whose inputs are refused at planning runs nothing: no path to check.
        if (file.data.cases[i]?.expect.refused_at_plan !== undefined) continue;
        const { plan } = planCase(inputs, file, i);
        const { observation } = await runCase(inputs, file, i);
        const problem = graphPathProblem(stepGraph(plan), startedSteps(observation.events), observation.cause);
        expect(problem, `${name} case ${i} (${file.data.cases[i]?.name})`).toBeNull();
        checked++;
      }
      expect(checked).toBeGreaterThan(0);
    });
  }
});
