// Reading Ansible YAML inventories unchanged.
import { describe, expect, test } from 'vitest';
import { parseInventory } from '../../src/inventory/index.js';

const yaml = (text: string) => parseInventory(text, 'inv.yaml');
const hostsOf = (inv: ReturnType<typeof yaml>, group: string) => inv.groups.get(group)!.hosts;

describe('YAML inventory structure', () => {
  test('hosts with no value, with a mapping, and a group written as a single name', () => {
    const inv = yaml(`
all:
  hosts:
    lone:
  children:
    web:
      hosts:
        web-1:
        web-2: { ansible_host: 10.0.0.2 }
    single:
      hosts: db-1
    parent:
      children: web
`);
    expect([...inv.hosts.keys()]).toEqual(['lone', 'web-1', 'web-2', 'db-1']);
    expect(inv.hosts.get('web-1')!.vars).toEqual({});
    expect(inv.hosts.get('web-2')!.vars).toEqual({ ansible_host: '10.0.0.2' });
    expect(hostsOf(inv, 'single')).toEqual(['db-1']);
    expect(inv.groups.get('parent')!.children).toEqual(['web']);
    expect(inv.hosts.get('web-1')!.groups).toEqual(['all', 'parent', 'web']);
  });

  test('nested children at any depth; every ancestor is one of the host groups', () => {
    const inv = yaml(`
all:
  children:
    a:
      children:
        b:
          children:
            c:
              hosts: { deep: }
`);
    expect(inv.hosts.get('deep')!.groups).toEqual(['a', 'all', 'b', 'c']);
    expect(inv.groups.get('a')!.children).toEqual(['b']);
    expect(inv.groups.get('b')!.hosts).toEqual([]);
  });

  test('a host in several groups, its vars gathered from every place it is listed (later wins)', () => {
    const inv = yaml(`
all:
  children:
    one:
      hosts:
        h: { a: 1, b: first }
    two:
      hosts:
        h: { b: second }
`);
    const h = inv.hosts.get('h')!;
    expect(h.groups).toEqual(['all', 'one', 'two']);
    expect(h.vars).toEqual({ a: 1, b: 'second' });
    expect([...inv.hosts.keys()]).toEqual(['h']);
  });

  test('a group defined in two places keeps the hosts and vars of both', () => {
    const inv = yaml(`
all:
  children:
    dc_1:
      children:
        routers:
          hosts: { r1: }
          vars: { x: 1 }
    dc_2:
      children:
        routers:
          hosts: { r2: }
          vars: { y: 2 }
`);
    expect(hostsOf(inv, 'routers')).toEqual(['r1', 'r2']);
    expect(inv.groups.get('routers')!.vars).toEqual({ x: 1, y: 2 });
    expect(inv.hosts.get('r2')!.groups).toEqual(['all', 'dc_1', 'dc_2', 'routers']);
  });

  test('implicit groups: top-level groups belong to all; hosts in no group are ungrouped', () => {
    const inv = yaml(`
all:
  hosts:
    bare:
routers:
  hosts:
    r1:
`);
    expect(inv.groups.get('all')!.children).toEqual(['ungrouped', 'routers']);
    expect(hostsOf(inv, 'ungrouped')).toEqual(['bare']);
    expect(inv.hosts.get('bare')!.groups).toEqual(['all', 'ungrouped']);
    expect(inv.hosts.get('r1')!.groups).toEqual(['all', 'routers']);
  });

  test('an undefined child group is created empty, as Ansible does', () => {
    const inv = yaml(`
all:
  children:
    parent:
      children:
        later:
`);
    expect(inv.groups.get('later')).toEqual({ name: 'later', children: [], hosts: [], vars: {} });
    expect(inv.groups.get('parent')!.children).toEqual(['later']);
  });

  test('host names with ranges and ports expand like Ansible', () => {
    const inv = yaml(`
all:
  hosts:
    mp-[01:03]:2200:
      role: mp
    node-[a:c]:
`);
    expect([...inv.hosts.keys()]).toEqual(['mp-01', 'mp-02', 'mp-03', 'node-a', 'node-b', 'node-c']);
    expect(inv.hosts.get('mp-02')!.vars).toEqual({ ansible_port: 2200, role: 'mp' });
    expect(inv.hosts.get('mp-02')!.connection.port).toBe(2200);
  });

  test('values are read as YAML 1.1, like PyYAML: yes/on are booleans, 010 is octal', () => {
    const inv = yaml(`
all:
  vars:
    ansible_become: yes
    flag: on
    octal: 010
    text: "010"
    date: 2024-01-31
    safe: !unsafe '{{ not_templated }}'
    answer: n
    y: 1
    sci: 1e3
    sci_dotted: 1.5e+3
  hosts: { h: }
`);
    const h = inv.hosts.get('h')!;
    // PyYAML, unlike the YAML 1.1 spec, reads y/n as strings and needs a dot in an exponent float.
    expect(h.vars).toEqual({
      ansible_become: true,
      flag: true,
      octal: 8,
      text: '010',
      date: '2024-01-31',
      safe: '{{ not_templated }}',
      answer: 'n',
      y: 1,
      sci: '1e3',
      sci_dotted: 1500,
    });
    expect(h.become.always).toBe(true);
  });

  test('anchors, aliases and merge keys (<<) work as in PyYAML; written keys beat merged ones', () => {
    const inv = yaml(`
all:
  vars:
    defaults: &mp_vars { mp_port: 8998, role: mp }
  children:
    mps:
      hosts:
        mp-1: *mp_vars
        mp-2:
          <<: *mp_vars
          role: canary
          y: 1
      vars:
        <<: [{ a: first }, { a: second, b: 2 }]
`);
    expect(inv.hosts.get('mp-1')!.vars).toMatchObject({ mp_port: 8998, role: 'mp', a: 'first', b: 2 });
    expect(inv.hosts.get('mp-2')!.vars).toMatchObject({ mp_port: 8998, role: 'canary', y: 1 });
    expect(Object.keys(inv.hosts.get('mp-2')!.vars)).not.toContain('Symbol(<<)');
  });

  test('a .json inventory is read as YAML, as Ansible does', () => {
    const inv = parseInventory('{"all": {"hosts": {"h1": {"ansible_port": 2201}}}}', 'inv.json');
    expect(inv.hosts.get('h1')!.connection.port).toBe(2201);
  });

  test('an unknown YAML tag is a warning with its position, not an error', () => {
    const inv = yaml('all:\n  vars:\n    x: !custom value\n  hosts: { h: }\n');
    expect(inv.hosts.get('h')!.vars.x).toBe('value');
    expect(inv.warnings).toContainEqual(expect.objectContaining({ line: 3, col: 8, severity: 'warning', message: expect.stringContaining('!custom') }));
  });
});

describe('YAML special floats', () => {
  test('.inf, -.Inf and .nan are numbers, as PyYAML reads them, and the file loads', () => {
    const vars = parseInventory('all:\n  hosts:\n    h: { a: .inf, b: -.Inf, c: .nan, d: 1.5 }\n', 'floats.yaml').hosts.get('h')!.vars;
    expect(vars.a).toBe(Infinity);
    expect(vars.b).toBe(-Infinity);
    expect(Number.isNaN(vars.c)).toBe(true);
    expect(vars.d).toBe(1.5);
  });
});
