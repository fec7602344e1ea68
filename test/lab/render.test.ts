import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readAsset } from '../../src/lab/assets.js';
import { INVENTORY_VARS_DOC, renderInventory } from '../../src/lab/inventory.js';
import { confValue, deobfuscate, parseProperties } from '../../src/lab/properties.js';
import {
  fillTemplate,
  KEYSTORE_PASSWORD,
  renderHostEnv,
  renderKnownHosts,
  renderMpCustomerProperties,
  renderNginxConf,
  renderSshdConfig,
  renderSudoers,
  withMpTls,
} from '../../src/lab/render.js';
import { buildTopology, mps, routers } from '../../src/lab/topology.js';
import type { LabUsers } from '../../src/lab/types.js';

const t = buildTopology('/lab', { regions: 2, mpsPerRegion: 2, org: 'myorg', env: 'prod' }, 21000);
const users: LabUsers = { login: 'remedy-lab', service: 'apigee', become: 'sudo' };
const ctx = { users, privateKey: '/lab/ssh/id_ed25519', knownHosts: '/lab/known_hosts' };

describe('renderInventory', () => {
  const text = renderInventory(t, ctx);
  const inv = parse(text) as { all: { children: Record<string, any> } };
  const groups = inv.all.children;

  it('starts with the documented variable contract', () => {
    expect(text.startsWith(INVENTORY_VARS_DOC)).toBe(true);
    for (const v of ['apigee_root', 'nginx_conf_dir', 'mp_mgmt_port', 'router_port', 'remedy_known_hosts', 'apigee_user']) expect(INVENTORY_VARS_DOC).toContain(v);
  });

  it('has routers, message_processors and per-region groups with role children', () => {
    expect(Object.keys(groups.routers.hosts)).toEqual(['router-1', 'router-2']);
    expect(Object.keys(groups.message_processors.hosts)).toEqual(['mp-1', 'mp-2', 'mp-3', 'mp-4']);
    expect(Object.keys(groups.dc_1.children.dc_1_routers.hosts)).toEqual(['router-1']);
    expect(Object.keys(groups.dc_2.children.dc_2_message_processors.hosts)).toEqual(['mp-3', 'mp-4']);
    expect(groups.dc_2.children.dc_2_message_processors.hosts['mp-3']).toBeNull();
  });

  it('puts every host-specific value in host vars', () => {
    const mp1 = mps(t)[0]!;
    expect(groups.message_processors.hosts['mp-1']).toEqual({
      ansible_host: '127.0.0.1',
      ansible_port: mp1.sshPort,
      ansible_user: 'remedy-lab',
      ansible_ssh_private_key_file: '/lab/ssh/id_ed25519',
      ansible_become_method: 'sudo',
      remedy_known_hosts: '/lab/known_hosts',
      apigee_root: '/lab/hosts/mp-1/opt/apigee',
      apigee_user: 'apigee',
      org: 'myorg',
      env: 'prod',
      region: 'dc-1',
      mp_port: mp1.mpPort,
      mp_tls_port: mp1.mpTlsPort,
      mp_mgmt_port: mp1.mpMgmtPort,
    });
    const r2 = routers(t)[1]!;
    expect(groups.routers.hosts['router-2']).toMatchObject({
      region: 'dc-2',
      router_port: r2.routerPort,
      router_mgmt_port: r2.routerMgmtPort,
      router_health_port: r2.routerHealthPort,
      nginx_conf_dir: '/lab/hosts/router-2/opt/nginx/conf.d',
    });
  });
});

describe('renderNginxConf', () => {
  const r1 = routers(t)[0]!;
  const conf = renderNginxConf(readAsset('templates/nginx.conf'), r1);

  it('fills every placeholder and includes the generated conf.d', () => {
    expect(conf).not.toMatch(/\{\{/);
    expect(conf).toContain(`include /lab/hosts/router-1/opt/nginx/conf.d/*.conf;`);
    expect(conf).toContain(`listen 127.0.0.1:${r1.routerMgmtPort};`);
    expect(conf).toContain(`listen 127.0.0.1:${r1.routerHealthPort};`);
    expect(conf).not.toMatch(/listen (?!127\.0\.0\.1:)/);
  });

  it('logs the 26 Apigee access-log fields, tab-separated, fault source and code at 18 and 19', () => {
    const format = /log_format apigee '([^']*)';/.exec(conf)?.[1] ?? '';
    const fields = format.split('\\t');
    expect(fields).toHaveLength(26);
    expect(fields[7]).toBe('$status');
    expect(fields[8]).toBe('$upstream_status');
    expect(fields[12]).toBe('$upstream_http_x_apigee_message_id');
    expect(fields[17]).toBe('$upstream_http_x_apigee_fault_source');
    expect(fields[18]).toBe('$upstream_http_x_apigee_fault_code');
    expect(fields[2]).toBe('router-1');
  });
});

describe('other lab files', () => {
  it('sshd: loopback, the host port and key, public keys only, the login user only', () => {
    const h = mps(t)[1]!;
    const conf = renderSshdConfig(readAsset('templates/sshd_config'), h, '/lab/ssh/authorized_keys', 'remedy-lab');
    expect(conf).toContain(`Port ${h.sshPort}\nListenAddress 127.0.0.1\n`);
    expect(conf).toContain('HostKey /lab/hosts/mp-2/etc/ssh/ssh_host_ed25519_key');
    expect(conf).toContain('AllowUsers remedy-lab');
    expect(conf).toContain('PasswordAuthentication no');
  });

  it('known_hosts pins each host key on its [127.0.0.1]:port', () => {
    expect(renderKnownHosts([{ port: 2201, publicKey: 'ssh-ed25519 AAAAC3Nz host@lab\n' }])).toBe('[127.0.0.1]:2201 ssh-ed25519 AAAAC3Nz\n');
  });

  it('host env quotes values for sh and carries the host ports', () => {
    const env = renderHostEnv(t, mps(t)[0]!, { users, javaBin: "/usr/lib/jvm/it's/java", classes: '/lab/java/classes', registry: '/lab/registry' });
    expect(env).toContain(`JAVA_BIN='/usr/lib/jvm/it'\\''s/java'`);
    expect(env).toContain(`MP_PORT=${mps(t)[0]!.mpPort}\n`);
    expect(env).toContain(`LAB_TARGET=http://127.0.0.1:${t.backendPort}\n`);
  });

  it('withMpTls writes the documented TLS settings on the chosen port, password obfuscated', () => {
    const mp = mps(t)[0]!;
    const props = parseProperties(withMpTls(renderMpCustomerProperties(mp), mp, mp.mpTlsPort));
    const file = 'message-processor-communication';
    expect(confValue(props, file, 'local.http.ssl')).toBe('true');
    expect(confValue(props, file, 'local.http.port')).toBe(String(mp.mpTlsPort));
    expect(confValue(props, file, 'local.http.ssl.keystore.path')).toBe('/lab/hosts/mp-1/opt/apigee/customer/application/keystore.jks');
    expect(deobfuscate(confValue(props, file, 'local.http.ssl.keystore.password') ?? '')).toBe(KEYSTORE_PASSWORD);
    // Applying it again changes values in place instead of appending duplicates.
    const twice = withMpTls(withMpTls('', mp, mp.mpPort), mp, mp.mpTlsPort);
    expect(twice.match(/local\.http\.port=/g)).toHaveLength(1);
  });

  it('sudoers allows only root and the service user as targets', () => {
    expect(renderSudoers(t, users)).toContain('remedy-lab ALL=(root, apigee) NOPASSWD: ALL');
  });

  it('fillTemplate refuses a placeholder without a value', () => {
    expect(() => fillTemplate('a {{missing}} b', {})).toThrow(/\{\{missing\}\}/);
    expect(fillTemplate('{{ a }}-{{b}}', { a: 1, b: 'x' })).toBe('1-x');
  });
});
