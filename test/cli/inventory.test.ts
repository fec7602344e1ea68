// remedy inventory: the inventory as remedy reads it, in ansible-inventory's formats.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const INV = 'test/fixtures/inventory/parity.ini';

function remedy(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`);
});

describe('remedy inventory', () => {
  it("--list-hosts prints one host per line in Ansible order: a group's own hosts, then its children's", () => {
    const r = remedy('inventory', '-i', INV, '--list-hosts', 'gateway');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe('router-1\nrouter-2\nmp-1\nmp-2\nmp-3\n');
    expect(remedy('inventory', '-i', INV, '--list-hosts', 'gateway', '--limit', 'dc_2').out).toBe('router-2\nmp-3\n');
    expect(remedy('inventory', '-i', INV, '--list-hosts', 'message_processors[-1]').out).toBe('mp-3\n');
  });

  it("--list is ansible-inventory's JSON: groups with direct hosts and children, _meta.hostvars, secrets redacted", () => {
    const r = remedy('inventory', '-i', INV, '--list');
    expect(r.code, r.err).toBe(0);
    const list = JSON.parse(r.out) as Record<string, { hosts?: string[]; children?: string[] }> & {
      _meta: { hostvars: Record<string, Record<string, unknown>> };
    };
    expect(list.all?.children).toEqual(['ungrouped', 'dc_1', 'dc_2', 'gateway']);
    expect(list.gateway).toEqual({ children: ['routers', 'message_processors'] });
    expect(list.ungrouped).toEqual({ hosts: ['bastion'] });
    expect(list._meta.hostvars['mp-3']).toMatchObject({ ansible_become: true, note: 'two words', region: 'dc-2', ansible_become_password: '********' });
    expect(r.out).not.toContain('s3cret');
    expect(r.out.startsWith('{\n    "_meta": {\n        "hostvars": {')).toBe(true);
  });

  it('--graph and --host', () => {
    const graph = remedy('inventory', '-i', INV, '--graph', 'gateway');
    expect(graph.out.split('\n').slice(0, 4)).toEqual(['@gateway:', '  |--@routers:', '  |  |--router-1', '  |  |--router-2']);
    const host = remedy('inventory', '-i', INV, '--host', 'router-1');
    expect(JSON.parse(host.out)).toMatchObject({ ansible_port: 2222, tags: ['edge', 'public'], role: 'router' });
  });

  it('needs exactly one action, and names an unknown host; exit 64', () => {
    expect(remedy('inventory', '-i', INV)).toMatchObject({ code: 64, err: expect.stringContaining('choose one of --list, --graph, --host or --list-hosts') });
    expect(remedy('inventory', '-i', INV, '--host', 'nosuch')).toMatchObject({ code: 64, err: expect.stringContaining(`no host named 'nosuch'`) });
  });
});
