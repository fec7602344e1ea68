// The same inventory written in YAML and in INI must give the same model: same hosts in the same
// order, same groups, same merged vars (INI values read as Python literals, as Ansible does).
import { describe, expect, test } from 'vitest';
import { loadInventory } from '../../src/inventory/index.js';

const FIXTURES = 'test/fixtures/inventory';

describe('YAML and INI parity', () => {
  const yaml = loadInventory(`${FIXTURES}/parity.yaml`);
  const ini = loadInventory(`${FIXTURES}/parity.ini`);

  test('both formats give the same hosts, in the same order, with the same vars and settings', () => {
    expect([...ini.hosts.keys()]).toEqual(['bastion', 'router-1', 'mp-1', 'mp-2', 'router-2', 'mp-3']);
    expect([...ini.hosts.entries()]).toEqual([...yaml.hosts.entries()]);
  });

  test('both formats give the same groups with the same children, hosts and vars', () => {
    expect([...ini.groups.entries()]).toEqual([...yaml.groups.entries()]);
    expect(ini.groups.get('all')?.children).toEqual(['ungrouped', 'dc_1', 'dc_2', 'gateway']);
    expect(ini.groups.get('gateway')?.children).toEqual(['routers', 'message_processors']);
  });

  test('values are typed the same way in both formats', () => {
    for (const inv of [yaml, ini]) {
      const r1 = inv.hosts.get('router-1')!;
      expect(r1.vars).toMatchObject({
        router_port: 9001,
        debug: false,
        motd: 'hello world',
        zone: '010',
        tags: ['edge', 'public'],
        ansible_port: 2222,
        role: 'router',
        region: 'dc-1',
      });
      expect(inv.hosts.get('mp-1')!.vars.weight).toBe(1.5);
      expect(inv.hosts.get('mp-3')!.vars.note).toBe('two words');
      expect(inv.hosts.get('mp-3')!.become.always).toBe(true);
      // ansible_group_priority configures the group; hosts never see it as a var.
      expect(r1.vars).not.toHaveProperty('ansible_group_priority');
    }
  });

  test('every host knows all its groups, ancestors and all included, sorted', () => {
    expect(yaml.hosts.get('router-1')!.groups).toEqual(['all', 'dc_1', 'gateway', 'routers']);
    expect(ini.hosts.get('bastion')!.groups).toEqual(['all', 'ungrouped']);
  });
});
