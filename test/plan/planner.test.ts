import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { loadInventory } from '../../src/inventory/index.js';
import { planRunbook, planToJson, renderPlanMarkdown, renderPlanMermaid, renderPlanText } from '../../src/plan/index.js';
import { loadRunbook } from '../../src/runbook/index.js';

const FIX = join(import.meta.dirname, '../fixtures/plan');

function plan(overrides: Record<string, string> = {}, limit?: string) {
  const { loaded } = loadRunbook(join(FIX, 'parent.yaml'));
  const inventory = loadInventory(join(FIX, 'inventory.yaml'));
  return planRunbook({ loaded, inventory, overrides, limit });
}

describe('planRunbook', () => {
  it('expands steps, includes and hosts in order', () => {
    const p = plan();
    expect(p.steps.map((s) => s.id)).toEqual(['check', 'dumps', 'decide', 'fix.restart', 'done']);
    expect(p.hosts).toEqual(['mp-1', 'mp-2', 'mp-3']);
    const restart = p.steps[3]!;
    // The include's hosts (dc_1) narrow the included step's own pattern (message_processors).
    expect(restart.hosts).toEqual(['mp-1', 'mp-2']);
    expect(restart.when).toBe('cause == "down"');
    expect(restart.mutates).toBe(true);
    expect(restart.batches).toEqual([['mp-1', 'mp-2']]);
    expect(restart.includePath).toEqual(['fix']);
  });

  it('renders exact commands: vars, quoting, become and deferred facts', () => {
    const p = plan();
    const check = p.steps[0]!.commands.find((c) => c.host === 'mp-1')!.command;
    expect(check).toBe(`curl -s http://127.0.0.1:8082/v1/servers/self/up -H "X-Token: ********" -d hello`);
    const dumps = p.steps[1]!.commands[0]!.command;
    expect(dumps).toBe(`sudo -n -H -u apigee -- sh -c 'jstack -l '\\''⟨facts.pid⟩'\\'''`);
    expect(p.steps[1]!.repeat).toEqual({ count: 3, intervalMs: 2000 });
    expect(p.steps[1]!.dynamic).toBe(true);
    expect(p.steps[3]!.commands[0]!.command).toBe(`sudo -n -H -u root -- sh -c '/opt/apigee/apigee-service/bin/apigee-service edge-message-processor restart'`);
  });

  it('quotes a hostile param value in every command', () => {
    const hostile = "x'; touch /tmp/pwned; '";
    const p = plan({ message: hostile });
    for (const c of p.steps[0]!.commands) expect(c.command).toContain(`-d 'x'\\''; touch /tmp/pwned; '\\'''`);
  });

  it('redacts secret params everywhere in the plan output', () => {
    const p = plan();
    expect(p.params.token).toBe('********');
    const outputs = [JSON.stringify(planToJson(p)), renderPlanText(p, { color: false }), renderPlanMarkdown(p), renderPlanMermaid(p)];
    for (const out of outputs) expect(out).not.toContain('s3cr3t-token');
  });

  it('is deterministic: same inputs, byte-identical plan and hash', () => {
    const a = JSON.stringify(planToJson(plan()));
    const b = JSON.stringify(planToJson(plan()));
    expect(a).toBe(b);
    expect(plan().planHash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('changes the hash when a param or the limit changes', () => {
    const base = plan().planHash;
    expect(plan({ message: 'other' }).planHash).not.toBe(base);
    expect(plan({}, 'mp-1').planHash).not.toBe(base);
  });

  it('applies --limit to every step', () => {
    const p = plan({}, 'dc_2');
    expect(p.hosts).toEqual(['mp-3']);
    expect(p.steps[3]!.hosts).toEqual([]);
  });

  it('matches the JSON contract', () => {
    const j = planToJson(plan()) as unknown as Record<string, unknown>;
    expect(Object.keys(j)).toEqual(expect.arrayContaining(['runbook', 'planHash', 'params', 'hosts', 'steps']));
    for (const s of j.steps as Record<string, unknown>[]) {
      for (const key of ['id', 'name', 'kind', 'mutates', 'when', 'confirm', 'batches', 'commands']) expect(s).toHaveProperty(key);
      expect(typeof s.mutates).toBe('boolean');
    }
  });

  it('shows both branches of a decision in the mermaid graph', () => {
    const m = renderPlanMermaid(plan());
    expect(m).toMatch(/^flowchart TD/);
    expect(m).toContain('-->|"down"|');
    expect(m).toMatch(/(s\d+)\[\/"fix\.restart: Restart"\/\]\n {2}class \1 mutating/);
    // The "none" branch runs nothing more: it ends where the runbook ends.
    expect(m).toMatch(/-->\|"none"\| s\d+\n/);
  });
});

describe('conditions over params alone', () => {
  it('are decided at plan time: ruled-out steps leave the plan, always-true parts are not shown', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'remedy-plan-static-'));
    writeFileSync(
      join(dir, 'rb.yaml'),
      [
        'name: rb',
        'summary: s',
        'params:',
        '  deep: { type: boolean, default: false }',
        'steps:',
        '  - { id: a, name: A, hosts: mp-1, run: "true", capture: { x: stdout } }',
        '  - { id: b, name: B, hosts: mp-1, when: params.deep, run: "deep-check" }',
        '  - { id: c, name: C, hosts: mp-1, when: "!params.deep && facts.x == \'1\'", run: "shallow" }',
      ].join('\n'),
    );
    const inventory = loadInventory(join(FIX, 'inventory.yaml'));
    const { loaded } = loadRunbook(join(dir, 'rb.yaml'));
    const shallow = planRunbook({ loaded, inventory, overrides: {} });
    expect(shallow.steps.map((s) => s.id)).toEqual(['a', 'c']);
    // `!params.deep && facts.x == '1'` is one part: it needs run time, so it stays whole.
    expect(shallow.steps[1]!.when).toBe("!params.deep && facts.x == '1'");
    const deep = planRunbook({ loaded, inventory, overrides: { deep: 'true' } });
    expect(deep.steps.map((s) => s.id)).toEqual(['a', 'b', 'c']);
    expect(deep.steps[1]!.when).toBeNull();
  });

  it('values_from_host_var: a value no host has for that var is refused (exit 64) naming the values there are; a real one, the default, or no inventory pass', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { parseInventory } = await import('../../src/inventory/load.js');
    const dir = mkdtempSync(join(tmpdir(), 'remedy-plan-hostvar-'));
    writeFileSync(
      join(dir, 'rb.yaml'),
      [
        'name: rb',
        'summary: s',
        'params:',
        '  region: { type: string, default: all, values_from_host_var: region }',
        'steps:',
        '  - { id: a, name: A, hosts: all, when: params.region == "all" || host.vars.region == params.region, run: "true" }',
      ].join('\n'),
    );
    const inventory = loadInventory(join(FIX, 'inventory.yaml'));
    const { loaded } = loadRunbook(join(dir, 'rb.yaml'));
    const refused = (() => {
      try {
        planRunbook({ loaded, inventory, overrides: { region: 'dc-9' } });
        return null;
      } catch (err) {
        return err;
      }
    })();
    expect(refused).toBeInstanceOf(UsageError);
    expect((refused as UsageError).exitCode).toBe(64);
    expect((refused as Error).message).toBe(
      `param region: "dc-9" is not the region of any host in ${inventory.source} (its hosts have region: dc-1, dc-2; or the default, all)`,
    );
    expect(planRunbook({ loaded, inventory, overrides: { region: 'dc-2' } }).params).toEqual({ region: 'dc-2' });
    expect(planRunbook({ loaded, inventory, overrides: { region: 'all' } }).params).toEqual({ region: 'all' });
    // Without an inventory (remedy graph) nothing can be checked.
    expect(() => planRunbook({ loaded, inventory: parseInventory('all: {}\n', '(none)', { format: 'yaml' }), overrides: { region: 'dc-9' } })).not.toThrow();
  });
});
