// From ansible_* vars to Connection and BecomeSettings, and the errors for what remedy cannot do.
import { describe, expect, test } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { parseInventory, refuseUnusableHosts } from '../../src/inventory/index.js';

const yaml = (text: string) => parseInventory(text, 'inv.yaml');
const host = (text: string, name = 'h') => yaml(text).hosts.get(name)!;

/** Loads the inventory, then targets `hosts` (default: every host), as a plan does. */
function target(text: string, file: string, hosts?: string[]) {
  const inv = parseInventory(text, file);
  refuseUnusableHosts(inv, hosts ?? inv.hosts.keys());
  return inv;
}

function errorsOf(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err.diagnostics;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('connection', () => {
  test('defaults: ssh to the inventory name on port 22, nothing explicit', () => {
    expect(host('all:\n  hosts:\n    h:\n').connection).toEqual({
      type: 'ssh',
      address: 'h',
      port: 22,
      user: undefined,
      privateKeyFile: undefined,
      proxyJump: undefined,
      knownHostsFile: undefined,
      explicit: { address: false, port: false },
    });
  });

  test('ansible_host, ansible_port, ansible_user, key file and known_hosts', () => {
    const h = host(`
all:
  hosts:
    h:
      ansible_host: 10.0.0.5
      ansible_port: "2222"
      ansible_user: ops
      ansible_ssh_private_key_file: ~/.ssh/apigee
      remedy_known_hosts: /etc/remedy/known_hosts
`);
    expect(h.connection).toMatchObject({
      type: 'ssh',
      address: '10.0.0.5',
      port: 2222,
      user: 'ops',
      privateKeyFile: '~/.ssh/apigee',
      knownHostsFile: '/etc/remedy/known_hosts',
      explicit: { address: true, port: true },
    });
  });

  test('the legacy ansible_ssh_host/_port/_user names still work; the new names win', () => {
    const h = host('all:\n  hosts:\n    h: { ansible_ssh_host: old, ansible_ssh_port: 2200, ansible_ssh_user: legacy, ansible_user: new }\n');
    expect(h.connection).toMatchObject({ address: 'old', port: 2200, user: 'new' });
  });

  test('ansible_connection=local runs on this machine; smart and paramiko mean ssh', () => {
    expect(host('all:\n  hosts:\n    h: { ansible_connection: local }\n').connection.type).toBe('local');
    expect(host('all:\n  hosts:\n    h: { ansible_connection: ansible.builtin.local }\n').connection.type).toBe('local');
    expect(host('all:\n  hosts:\n    h: { ansible_connection: smart }\n').connection.type).toBe('ssh');
    expect(host('all:\n  hosts:\n    h: { ansible_connection: paramiko }\n').connection.type).toBe('ssh');
  });

  test('{{ var }} references in connection vars are resolved from the host vars', () => {
    const h = host(
      `
all:
  vars:
    domain: dc1.example.com
    ansible_host: "{{ inventory_hostname }}.{{ domain }}"
  hosts:
    mp-1:
`,
      'mp-1',
    );
    expect(h.connection.address).toBe('mp-1.dc1.example.com');
    expect(h.vars.ansible_host).toBe('{{ inventory_hostname }}.{{ domain }}');
  });

  test('jump hosts: remedy_proxy_jump, -J, -o ProxyJump, and ProxyCommand "ssh -W %h:%p"', () => {
    const jumps = (vars: string) => host(`all:\n  hosts:\n    h: ${vars}\n`).connection.proxyJump;
    expect(jumps('{ remedy_proxy_jump: "ops@bastion:2222, inner" }')).toEqual(['ops@bastion:2222', 'inner']);
    expect(jumps('{ remedy_proxy_jump: [a, b] }')).toEqual(['a', 'b']);
    expect(jumps(`{ ansible_ssh_common_args: '-J ops@bastion' }`)).toEqual(['ops@bastion']);
    expect(jumps(`{ ansible_ssh_extra_args: '-o ProxyJump=j1,j2' }`)).toEqual(['j1', 'j2']);
    expect(jumps(`{ ansible_ssh_common_args: '-o ProxyCommand="ssh -W %h:%p -q -p 2200 ops@bastion"' }`)).toEqual(['ops@bastion:2200']);
    expect(jumps(`{ ansible_ssh_common_args: '-J outer', remedy_proxy_jump: inner }`)).toEqual(['inner']);
  });

  test('ssh options remedy does not apply are a warning, at the line that sets them', () => {
    const inv = yaml(`all:\n  vars:\n    ansible_ssh_common_args: '-o StrictHostKeyChecking=no -J b'\n  hosts: { h1: , h2: }\n`);
    expect(inv.hosts.get('h1')!.connection.proxyJump).toEqual(['b']);
    expect(inv.warnings).toContainEqual({
      file: 'inv.yaml',
      line: 3,
      col: 5,
      severity: 'warning',
      message:
        'hosts h1, h2: ansible_ssh_common_args: remedy ignores -o StrictHostKeyChecking=no (it honours only the jump host and ServerAliveInterval/ServerAliveCountMax)',
    });
  });
});

describe('keepalive from the ssh args (ServerAliveInterval, ServerAliveCountMax)', () => {
  test('read from ansible_ssh_common_args, else ansible_ssh_extra_args; not warned about', () => {
    const inv = yaml(
      `all:\n  hosts:\n    h1: { ansible_ssh_common_args: '-o ServerAliveInterval=5 -oServerAliveCountMax=2' }\n    h2: { ansible_ssh_extra_args: '-o "ServerAliveInterval 0"' }\n    h3:\n`,
    );
    expect(inv.hosts.get('h1')!.connection).toMatchObject({ serverAliveInterval: 5, serverAliveCountMax: 2 });
    expect(inv.hosts.get('h2')!.connection).toMatchObject({ serverAliveInterval: 0 });
    expect(inv.hosts.get('h3')!.connection.serverAliveInterval).toBeUndefined();
    expect(inv.warnings ?? []).toEqual([]);
  });

  test('a value that is not a count is an error for a targeted host, naming the var', () => {
    const errors = errorsOf(() => target(`all:\n  hosts:\n    h1: { ansible_ssh_common_args: '-o ServerAliveCountMax=0' }\n`, 'inv.yaml'));
    expect(errors.map((d) => d.message).join('\n')).toMatch(/ansible_ssh_common_args: ServerAliveCountMax must be a whole number \(1-1000\), got "0"/);
  });
});

describe('become', () => {
  test('defaults: not always, sudo, root, no password', () => {
    expect(host('all:\n  hosts:\n    h:\n').become).toEqual({ always: false, method: 'sudo', user: 'root', password: undefined });
  });

  test('ansible_become, _method, _user and _password (or _pass)', () => {
    expect(
      host('all:\n  hosts:\n    h: { ansible_become: "yes", ansible_become_method: runuser, ansible_become_user: apigee, ansible_become_pass: pw }\n').become,
    ).toEqual({ always: true, method: 'runuser', user: 'apigee', password: 'pw' });
    expect(host('all:\n  hosts:\n    h: { ansible_become_method: none, ansible_become_password: 1234 }\n').become).toMatchObject({
      method: 'none',
      password: '1234',
    });
  });

  test('su, doas and other methods are rejected, naming the hosts and the line that set them', () => {
    const diagnostics = errorsOf(() => target('all:\n  vars:\n    ansible_become_method: su\n  hosts: { a: , b: , c: , d: }\n', 'inv.yaml'));
    expect(diagnostics).toEqual([
      {
        file: 'inv.yaml',
        line: 3,
        col: 5,
        severity: 'error',
        message: "hosts a, b, c and 1 more: ansible_become_method 'su' is not supported; remedy becomes with sudo, runuser or none",
      },
    ]);
    const ini = errorsOf(() => target('[g]\nmp-1 ansible_become_method=doas\n', 'hosts.ini'));
    expect(ini[0]).toMatchObject({ line: 2, col: 6, message: expect.stringMatching(/^host mp-1: ansible_become_method 'doas' is not supported/) });
  });

  test('a host var fixes what a group var got wrong', () => {
    const h = host('all:\n  vars:\n    ansible_become_method: su\n  hosts:\n    h: { ansible_become_method: sudo }\n');
    expect(h.become.method).toBe('sudo');
  });

  test('bad ports, booleans and connection types are errors at their position', () => {
    const d = errorsOf(() => target('[g]\nh1 ansible_port=x22 ansible_become=maybe\nh2 ansible_connection=winrm\n', 'hosts.ini'));
    expect(d.map((x) => `${x.line}:${x.col} ${x.message}`)).toEqual([
      '2:4 host h1: ansible_port must be a port number (1-65535), got "x22"',
      '2:21 host h1: ansible_become must be true or false (yes/no), got "maybe"',
      "3:4 host h2: ansible_connection 'winrm' is not supported; remedy connects with ssh or local",
    ]);
  });
});

describe('settings remedy cannot honour refuse the host, not the inventory', () => {
  const text =
    "[linux]\nweb1\n[windows]\nwin1 ansible_connection=winrm\n[switches]\nsw1 ansible_connection=network_cli ansible_user=\"{{ lookup('env', 'USER') }}\"\n";

  test('the inventory loads, with a warning per setting; hosts not targeted are never refused', () => {
    const inv = parseInventory(text, 'hosts.ini');
    expect([...inv.hosts.keys()]).toEqual(['web1', 'win1', 'sw1']);
    expect(inv.warnings?.map((w) => w.message)).toContain(
      "host win1: ansible_connection 'winrm' is not supported; remedy connects with ssh or local (refused only if a step targets it)",
    );
    expect(() => refuseUnusableHosts(inv, ['web1'])).not.toThrow();
  });

  test('targeting such a host is an error naming the host, the var and where it was set', () => {
    const inv = parseInventory(text, 'hosts.ini');
    const d = errorsOf(() => refuseUnusableHosts(inv, ['web1', 'win1', 'sw1']));
    expect(d.map((x) => `${x.file}:${x.line}:${x.col} ${x.message}`)).toEqual([
      "hosts.ini:4:6 host win1: ansible_connection 'winrm' is not supported; remedy connects with ssh or local",
      "hosts.ini:6:5 host sw1: ansible_connection 'network_cli' is not supported; remedy connects with ssh or local",
      `hosts.ini:6:36 host sw1: ansible_user uses a template remedy cannot resolve ("{{ lookup('env', 'USER') }}"): lookup(), which remedy does not render`,
    ]);
  });
});
