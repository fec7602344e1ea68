// Inventory vars written for Ansible (Jinja, magic vars, group order) as a runbook sees them in a plan.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/index.js';
import { planRunbook } from '../../src/plan/index.js';
import { loadRunbook } from '../../src/runbook/index.js';

const dir = mkdtempSync(join(tmpdir(), 'remedy-inv-templates-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

writeFileSync(
  join(dir, 'hosts.ini'),
  `[web]
web-2 ansible_connection=local
web-1 ansible_connection=local
[edge]
edge-1 ansible_connection=local
[front:children]
edge
web
[front]
lb-1 ansible_connection=local
[win]
win-1 ansible_connection=winrm
[all:vars]
domain=example.com
fqdn="{{ inventory_hostname }}.{{ domain | upper }}"
who="{{ lookup('env', 'USER') }}"
`,
);

function plan(steps: string): ReturnType<typeof planRunbook> {
  const file = join(dir, `rb-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `name: t\nsummary: t\nsteps:\n${steps}`);
  const { loaded } = loadRunbook(file);
  return planRunbook({ loaded, inventory: loadInventory(join(dir, 'hosts.ini')), overrides: {} });
}

describe('inventory templates and Ansible names in a plan', () => {
  it('renders Jinja in inventory vars and gives the magic vars their Ansible meaning', () => {
    const p = plan(
      `  - id: a\n    name: a\n    hosts: web\n    run: |-\n      echo {{ fqdn }} {{ group_names | join: "," }} {{ groups.front | join: "," }} {{ hostvars['web-1'].fqdn }}\n`,
    );
    expect(p.steps[0]!.commands.map((c) => c.command)).toEqual([
      'echo web-2.EXAMPLE.COM front,web lb-1,edge-1,web-2,web-1 web-1.EXAMPLE.COM',
      'echo web-1.EXAMPLE.COM front,web lb-1,edge-1,web-2,web-1 web-1.EXAMPLE.COM',
    ]);
  });

  it("takes hosts and serial batches in Ansible order: the group's own hosts, then its children's", () => {
    const p = plan(`  - id: a\n    name: a\n    hosts: front\n    serial: 2\n    run: "true"\n`);
    expect(p.steps[0]!.hosts).toEqual(['lb-1', 'edge-1', 'web-2', 'web-1']);
    expect(p.steps[0]!.batches).toEqual([
      ['lb-1', 'edge-1'],
      ['web-2', 'web-1'],
    ]);
  });

  it('a var remedy cannot render fails only the step that uses it, naming host, var and construct', () => {
    expect(() => plan(`  - id: a\n    name: a\n    hosts: web-1\n    run: echo {{ who }}\n`)).toThrow(
      /host web-1: inventory var who = .*lookup\('env', 'USER'\).* cannot be rendered \(lookup\(\)\)/,
    );
  });

  it('a host with a connection remedy cannot use is refused only when a step targets it', () => {
    expect(() => plan(`  - id: a\n    name: a\n    hosts: all\n    run: "true"\n`)).toThrow(/host win-1: ansible_connection 'winrm' is not supported/);
    expect(plan(`  - id: a\n    name: a\n    hosts: all:!win\n    run: "true"\n`).hosts).not.toContain('win-1');
  });

  it("localhost, when the inventory has none, is Ansible's implicit localhost: local, with a warning", () => {
    const p = plan(`  - id: a\n    name: a\n    hosts: localhost\n    run: echo {{ domain }} {{ group_names | size }}\n`);
    expect(p.hosts).toEqual(['localhost']);
    expect(p.steps[0]!.commands[0]!.command).toBe('echo example.com 0');
    expect(p.warnings).toContain("localhost is not in the inventory: using the implicit localhost (a local connection; it does not match 'all')");
    expect(plan(`  - id: a\n    name: a\n    hosts: all:!win\n    run: "true"\n`).hosts).not.toContain('localhost');
  });
});
