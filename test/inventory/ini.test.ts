// Reading Ansible INI inventories unchanged (ansible/plugins/inventory/ini.py).
import { describe, expect, test } from 'vitest';
import { parseInventory } from '../../src/inventory/index.js';

const ini = (...lines: string[]) => parseInventory(lines.join('\n'), 'hosts.ini', { format: 'ini' });

describe('INI inventory structure', () => {
  test('sections, children declared before their own section, comments of both kinds', () => {
    const inv = ini(
      '# a comment',
      '; another comment',
      '[gateway:children]   # trailing comment on a header',
      'routers',
      '[routers]',
      'r1',
      '  r2   ',
      '[gateway:vars]',
      'x=1',
    );
    expect(inv.groups.get('gateway')!.children).toEqual(['routers']);
    expect(inv.groups.get('routers')!.hosts).toEqual(['r1', 'r2']);
    expect(inv.hosts.get('r2')!.groups).toEqual(['all', 'gateway', 'routers']);
    expect(inv.hosts.get('r1')!.vars).toEqual({ x: 1 });
  });

  test('hosts before any section are ungrouped, unless a section lists them too', () => {
    const inv = ini('alone', 'later', '[web]', 'later');
    expect(inv.groups.get('ungrouped')!.hosts).toEqual(['alone']);
    expect(inv.hosts.get('later')!.groups).toEqual(['all', 'web']);
  });

  test('inline host vars: literal-evaluated like Python, quotes per shell rules, # ends the line', () => {
    const inv = ini(
      '[g]',
      `mp-1 ansible_host=10.0.0.5 ansible_port=2222 region=dc_1 n=1.5 b=True t=true none=None hex=0x1F zero_led=010 ` +
        `q="two words" lit="'5'" list="[1, 'a']" dict='{"k": [1]}' empty= # a comment`,
    );
    expect(inv.hosts.get('mp-1')!.vars).toEqual({
      ansible_host: '10.0.0.5',
      ansible_port: 2222,
      region: 'dc_1',
      n: 1.5,
      b: true,
      t: 'true',
      none: null,
      hex: 31,
      zero_led: '010',
      q: 'two words',
      lit: '5',
      list: [1, 'a'],
      dict: { k: [1] },
      empty: '',
    });
  });

  test('[group:vars] values: everything after the first =, trimmed, read the same way', () => {
    const inv = ini('[g]', 'h', '[g:vars]', 'port = 8080', 'flag=FALSE', 'msg = "a b"  ', 'cmd=echo a=b', 'url=http://x:1/#frag');
    expect(inv.hosts.get('h')!.vars).toEqual({ port: 8080, flag: 'FALSE', msg: 'a b', cmd: 'echo a=b', url: 'http://x:1/#frag' });
  });

  test('host ranges: numeric, zero-padded, with a step, letters, and a port', () => {
    const inv = ini('[mps]', 'mp-[1:3]', 'db-[01:10:4]:2200 role=db', 'node-[a:c]');
    expect([...inv.hosts.keys()]).toEqual(['mp-1', 'mp-2', 'mp-3', 'db-01', 'db-05', 'db-09', 'node-a', 'node-b', 'node-c']);
    expect(inv.hosts.get('db-05')!.vars).toEqual({ ansible_port: 2200, role: 'db' });
  });

  test('an IPv6 address is a host name, with or without a bracketed port', () => {
    const inv = ini('[v6]', 'fe80::1', '[2001:db8::5]:2222');
    expect([...inv.hosts.keys()]).toEqual(['fe80::1', '2001:db8::5']);
    expect(inv.hosts.get('2001:db8::5')!.connection.port).toBe(2222);
  });

  test('files without a YAML extension are sniffed', () => {
    expect(parseInventory('[web]\nw1\n', 'hosts').hosts.has('w1')).toBe(true);
    expect(parseInventory('all:\n  hosts:\n    y1:\n', 'hosts').hosts.has('y1')).toBe(true);
    expect(parseInventory('h1:2222 a=1\n', 'hosts').hosts.get('h1')!.connection.port).toBe(2222);
  });
});
