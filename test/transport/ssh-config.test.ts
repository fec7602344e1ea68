import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../src/inventory/types.js';
import { loadSshConfig, parseJumpSpec, parseSshConfig, resolveSshRoute, splitProxyJump } from '../../src/transport/ssh-config.js';

const tmp = mkdtempSync(join(tmpdir(), 'remedy-sshcfg-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const conn = (c: Partial<Connection>): Connection => ({ type: 'ssh', address: 'web1', port: 22, ...c });

const CONFIG = `
Host web*
  HostName %h.internal.example
  User deploy
  Port 2200
  IdentityFile ~/.ssh/web_key
  IdentityFile /keys/%r@%h
  ProxyJump ops@bastion:2022
Host bastion
  HostName 10.0.0.9
  User bastion-user
  IdentityFile ~/.ssh/bastion_key
Host danger
  Match exec "touch ${tmp}/match-exec-ran"
Host *
  User fallback
`;

describe('ssh_config merge', () => {
  const config = parseSshConfig(CONFIG);

  it('fills what the inventory leaves unset, with ~ and %-token expansion', () => {
    const route = resolveSshRoute('web1', conn({}), { config, localUser: 'me' });
    expect(route.target).toEqual({
      label: 'web1',
      address: 'web1.internal.example',
      port: 2200,
      user: 'deploy',
      identityFiles: [join(homedir(), '.ssh/web_key'), '/keys/deploy@web1.internal.example'],
      knownHostsFile: undefined,
    });
  });

  it('keeps an explicit ansible_host and ansible_port (even 22) over HostName and Port', () => {
    const route = resolveSshRoute('web1', conn({ address: 'web7', port: 22, explicit: { address: true, port: true } }), { config, localUser: 'me' });
    expect(route.target).toMatchObject({ address: 'web7', port: 22, user: 'deploy' });
    const implicit = resolveSshRoute('web1', conn({ address: 'web1', port: 22, explicit: { address: false, port: false } }), { config, localUser: 'me' });
    expect(implicit.target).toMatchObject({ address: 'web1.internal.example', port: 2200 });
  });

  it('lets inventory values win: port, user, key (first), proxyJump, known_hosts file', () => {
    const route = resolveSshRoute('web1', conn({ port: 2201, user: 'inv-user', privateKeyFile: '~/inv_key', proxyJump: [], knownHostsFile: '~/kh' }), {
      config,
      localUser: 'me',
    });
    expect(route.target.port).toBe(2201);
    expect(route.target.user).toBe('inv-user');
    expect(route.target.identityFiles[0]).toBe(join(homedir(), 'inv_key'));
    expect(route.target.knownHostsFile).toBe(join(homedir(), 'kh'));
    expect(route.jumps).toEqual([]);
  });

  it('resolves ProxyJump hops through ssh_config, explicit user/port in the spec winning', () => {
    const route = resolveSshRoute('web1', conn({}), { config, localUser: 'me' });
    expect(route.jumps).toEqual([
      { label: 'ops@bastion:2022', address: '10.0.0.9', port: 2022, user: 'ops', identityFiles: [join(homedir(), '.ssh/bastion_key')] },
    ]);
  });

  it('lets a jump spec name an inventory host, using its connection', () => {
    const route = resolveSshRoute('db1', conn({ address: '10.1.0.5', proxyJump: ['jumpbox'] }), {
      config: null,
      localUser: 'me',
      inventoryConnection: (name) => (name === 'jumpbox' ? conn({ address: '192.0.2.7', port: 2022, user: 'jj', privateKeyFile: '/k' }) : undefined),
    });
    expect(route.jumps).toEqual([{ label: 'jumpbox', address: '192.0.2.7', port: 2022, user: 'jj', identityFiles: ['/k'], knownHostsFile: undefined }]);
    expect(route.target).toMatchObject({ address: '10.1.0.5', port: 22, user: 'me' });
  });

  it('falls back to the local user and port 22 with no config', () => {
    const route = resolveSshRoute('x', conn({ address: 'x.example' }), { config: null, localUser: 'me' });
    expect(route.target).toMatchObject({ address: 'x.example', port: 22, user: 'me', identityFiles: [] });
    expect(route.jumps).toEqual([]);
  });

  it('never runs Match exec', () => {
    parseSshConfig(CONFIG).lookup('danger');
    resolveSshRoute('danger', conn({ address: 'danger' }), { config, localUser: 'me' });
    expect(() => loadSshConfig(join(tmp, 'none'))).not.toThrow();
    expect(existedAndRemoved(join(tmp, 'match-exec-ran'))).toBe(false);
  });

  it('follows Include files with wildcards', () => {
    mkdirSync(join(tmp, 'conf.d'));
    writeFileSync(join(tmp, 'conf.d', '10-app.conf'), 'Host app1\n  HostName 198.51.100.1\n  Port 2222\n');
    writeFileSync(join(tmp, 'config'), `Include ${join(tmp, 'conf.d')}/*.conf\nHost *\n  User u\n`);
    const lookup = loadSshConfig(join(tmp, 'config'));
    expect(lookup.lookup('app1')).toMatchObject({ hostName: '198.51.100.1', port: 2222, user: 'u' });
  });
});

describe('jump specs', () => {
  it('splits lists and honours none', () => {
    expect(splitProxyJump('a, b ,c')).toEqual(['a', 'b', 'c']);
    expect(splitProxyJump('none')).toEqual([]);
    expect(splitProxyJump(undefined)).toEqual([]);
  });
  it('parses user@host:port, [v6]:port and ssh:// forms', () => {
    expect(parseJumpSpec('ops@bastion:2022')).toEqual({ user: 'ops', host: 'bastion', port: 2022 });
    expect(parseJumpSpec('bastion')).toEqual({ user: undefined, host: 'bastion', port: undefined });
    expect(parseJumpSpec('u@[::1]:2200')).toEqual({ user: 'u', host: '::1', port: 2200 });
    expect(parseJumpSpec('ssh://u@h:22')).toEqual({ user: 'u', host: 'h', port: 22 });
    expect(() => parseJumpSpec('u@')).toThrow(/invalid jump host/);
  });
});

function existedAndRemoved(path: string): boolean {
  try {
    rmSync(path);
    return true;
  } catch {
    return false;
  }
}
