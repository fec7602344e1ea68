// Variable precedence as Ansible applies it: all < parent group < child group < host; groups of
// equal depth by ansible_group_priority, then name (later wins); group_vars/ and host_vars/ next
// to the inventory above the inventory file's own group and host vars.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { loadInventory, parseInventory } from '../../src/inventory/index.js';

const FILE = 'test/fixtures/inventory/precedence/hosts.yaml';
/** With group_vars/ and host_vars/. */
const inv = loadInventory(FILE);
const vars = (host: string) => inv.hosts.get(host)!.vars;
/** The same file alone: only what the inventory file itself says. */
const fileOnly = parseInventory(readFileSync(FILE, 'utf8'), FILE);
const parseVars = (host: string) => fileOnly.hosts.get(host)!.vars;

describe('inventory file vars', () => {
  test('a host var beats its groups; a child group beats its parent; a parent beats all', () => {
    expect(parseVars('h2')).toMatchObject({ level: 'cell' });
    expect(parseVars('h1')).toMatchObject({ level: 'host' });
    expect(parseVars('h3')).toMatchObject({ level: 'region', from_region: 'region' });
  });

  test('a deeper group wins even against a shallower group with a higher priority', () => {
    // h2 is in cell (depth 2) and shallow (depth 1, priority 100).
    expect(parseVars('h2').level).toBe('cell');
  });

  test('among groups at the same depth, the alphabetically later name wins', () => {
    expect(vars('h4').sibling).toBe('zz');
  });

  test('ansible_group_priority outranks the alphabetical order', () => {
    expect(vars('h5').sibling).toBe('pa');
  });

  test('the same rules hold for INI inventories', () => {
    const ini = parseInventory(
      [
        '[aa]',
        'h1',
        '[zz]',
        'h1',
        '[pa]',
        'h2',
        '[pz]',
        'h2',
        '[pa:vars]',
        'ansible_group_priority=10',
        's=pa',
        '[pz:vars]',
        's=pz',
        '[aa:vars]',
        's=aa',
        '[zz:vars]',
        's=zz',
        '[all:vars]',
        's=all',
        'only=all',
      ].join('\n'),
      'prec.ini',
    );
    expect(ini.hosts.get('h1')!.vars).toEqual({ s: 'zz', only: 'all' });
    expect(ini.hosts.get('h2')!.vars).toEqual({ s: 'pa', only: 'all' });
  });
});

describe('group_vars/ and host_vars/ next to the inventory', () => {
  test('host_vars/<host> beats the host vars written in the inventory', () => {
    expect(vars('h1').level).toBe('host_vars');
  });

  test('group_vars/all beats group vars written in the inventory file, as in Ansible', () => {
    expect(vars('h2').beaten).toBe('group_vars-all');
    expect(vars('h3').from_dir_all).toBe(true);
  });

  test('group_vars/<group> beats the same group in the inventory file; child directory beats parent file', () => {
    expect(vars('h3').from_region).toBe('group_vars-region');
    expect(vars('h3').dir_level).toBe('region');
    expect(vars('h2').dir_level).toBe('cell-20');
    expect(vars('h2').cell_list).toEqual(['a', 'b']);
  });

  test('files of a group_vars/<group>/ directory are read in name order, later wins', () => {
    expect(vars('h1').dir_level).toBe('cell-20');
  });

  test('Group.vars shows the inventory vars overlaid with the group_vars file', () => {
    expect(inv.groups.get('region')!.vars).toEqual({ level: 'region', from_region: 'group_vars-region', dir_level: 'region' });
  });

  test('a group_vars file named after no group is reported as a warning', () => {
    const warning = inv.warnings?.find((w) => w.file.endsWith('regoin.yml'));
    expect(warning?.message).toBe("no group named 'regoin' in the inventory; these vars are not used");
    expect(warning?.severity).toBe('warning');
  });
});
