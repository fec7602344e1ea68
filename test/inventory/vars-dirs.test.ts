// group_vars/ and host_vars/ next to the inventory: which files are read, and their errors.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { loadInventory, refuseUnusableHosts } from '../../src/inventory/index.js';

const root = mkdtempSync(join(tmpdir(), 'remedy-vars-dirs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Writes an inventory and its side files into a fresh directory; returns the inventory path. */
function layout(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return join(dir, 'hosts.ini');
}

describe('group_vars/ and host_vars/', () => {
  test('NAME, NAME.yml, NAME.yaml, NAME.json: only the first that exists is read, as Ansible does', () => {
    const inv = loadInventory(
      layout('first-wins', {
        'hosts.ini': '[web]\nw1\n',
        'group_vars/web': 'from: bare\n',
        'group_vars/web.yml': 'from: yml\n',
        'host_vars/w1.json': '{"json": true}',
      }),
    );
    expect(inv.hosts.get('w1')!.vars).toEqual({ from: 'bare', json: true });
  });

  test('host_vars/<host>/ directory: every file, in name order, sub-directories included', () => {
    const inv = loadInventory(
      layout('host-dir', {
        'hosts.ini': 'w1\n',
        'host_vars/w1/a.yml': 'x: a\ny: a\n',
        'host_vars/w1/b/c.yaml': 'y: c\n',
        'host_vars/w1/notes.txt': 'x: ignored\n',
        'host_vars/w1/.hidden.yml': 'x: hidden\n',
      }),
    );
    expect(inv.hosts.get('w1')!.vars).toEqual({ x: 'a', y: 'c' });
  });

  test('a syntax error in a vars file is reported at its own file:line:col', () => {
    const file = layout('broken', { 'hosts.ini': '[web]\nw1\n', 'group_vars/web.yml': 'a: 1\n  b: 2\n' });
    try {
      loadInventory(file);
      throw new Error('expected a ValidationError');
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      const d = (err as ValidationError).diagnostics[0]!;
      expect(d.file).toBe(join(root, 'broken', 'group_vars', 'web.yml'));
      expect(`${d.line}:${d.col}: ${d.message}`).toBe('1:4: Nested mappings are not allowed in compact mappings');
    }
  });

  test('a vars file that is not a mapping is an error; an empty one is fine', () => {
    expect(() => loadInventory(layout('list', { 'hosts.ini': 'w1\n', 'host_vars/w1.yml': '- a\n- b\n' }))).toThrow(
      /host_vars\/w1\.yml:1:1: a vars file must be a mapping of variable names to values/,
    );
    expect(loadInventory(layout('empty', { 'hosts.ini': 'w1\n', 'host_vars/w1.yml': '# nothing yet\n' })).hosts.get('w1')!.vars).toEqual({});
  });

  test('a bad become method set in group_vars is reported there, naming the hosts', () => {
    const inv = loadInventory(layout('become', { 'hosts.ini': '[web]\nw1\n', 'group_vars/web.yml': '\nansible_become_method: pbrun\n' }));
    expect(() => refuseUnusableHosts(inv, ['w1'])).toThrow(/group_vars\/web\.yml:2:1: host w1: ansible_become_method 'pbrun' is not supported/);
  });
});
