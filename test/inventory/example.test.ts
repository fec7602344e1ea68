// inventory/example.yaml: the Apigee Private Cloud layout the README and the runbooks use.
import { describe, expect, test } from 'vitest';
import { loadInventory, selectHosts } from '../../src/inventory/index.js';

const inv = loadInventory('inventory/example.yaml');

describe('inventory/example.yaml', () => {
  test('two regions, each with two Routers and three Message Processors', () => {
    expect(selectHosts(inv, 'dc_1:&routers')).toEqual(['router-1', 'router-2']);
    expect(selectHosts(inv, 'dc_1:&message_processors')).toEqual(['mp-1', 'mp-2', 'mp-3']);
    expect(selectHosts(inv, 'dc_2:&routers')).toEqual(['router-3', 'router-4']);
    expect(selectHosts(inv, 'dc_2:&message_processors')).toEqual(['mp-4', 'mp-5', 'mp-6']);
    expect(inv.hosts.size).toBe(10);
  });

  test('every host has the vars the runbooks need, with the names the lab generates', () => {
    for (const host of inv.hosts.values()) {
      expect(host.vars).toMatchObject({
        apigee_root: '/opt/apigee',
        nginx_conf_dir: '/opt/nginx/conf.d',
        apigee_user: 'apigee',
        org: 'myorg',
        env: 'prod',
        router_port: 9001,
        mp_port: 8998,
        mp_mgmt_port: 8082,
        router_mgmt_port: 8081,
      });
      expect(host.vars.region).toBe(host.groups.includes('dc_1') ? 'dc-1' : 'dc-2');
    }
  });

  test('hosts are reached over ssh at private 10.x addresses, as ops, becoming root with sudo', () => {
    for (const host of inv.hosts.values()) {
      expect(host.connection).toMatchObject({ type: 'ssh', port: 22, user: 'ops', explicit: { address: true, port: false } });
      expect(host.connection.address).toMatch(/^10\.\d+\.\d+\.\d+$/);
      expect(host.become).toEqual({ always: false, method: 'sudo', user: 'root', password: undefined });
    }
    expect(new Set([...inv.hosts.values()].map((h) => h.connection.address)).size).toBe(10);
  });

  test('loads without warnings', () => {
    expect(inv.warnings).toEqual([]);
  });
});
