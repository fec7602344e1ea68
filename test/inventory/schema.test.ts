// The zod schema of the YAML inventory format and the JSON Schema editors get from it.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { InventoryFile } from '../../src/inventory/index.js';

const jsonSchema = z.toJSONSchema(InventoryFile, { target: 'draft-7', io: 'input' }) as Record<string, any>;

describe('InventoryFile', () => {
  test('accepts the example inventory and the parity fixture', () => {
    for (const file of ['inventory/example.yaml', 'test/fixtures/inventory/parity.yaml']) {
      expect(InventoryFile.safeParse(parse(readFileSync(file, 'utf8'), { version: '1.1' })).success).toBe(true);
    }
  });

  test('accepts the shapes Ansible accepts: null groups and hosts, a bare host or child name', () => {
    const ok = { all: { hosts: 'one', children: { a: null, b: { children: 'c', hosts: { h: null }, vars: null } } }, top: null };
    expect(InventoryFile.safeParse(ok).success).toBe(true);
  });

  test('rejects unknown group keys, lists of hosts and mistyped ansible vars', () => {
    expect(InventoryFile.safeParse({ all: { host: {} } }).success).toBe(false);
    expect(InventoryFile.safeParse({ all: { hosts: ['a'] } }).success).toBe(false);
    expect(InventoryFile.safeParse({ all: { hosts: { a: { ansible_port: 70000 } } } }).success).toBe(false);
    expect(InventoryFile.safeParse({ all: { vars: { ansible_group_priority: 'high' } } }).success).toBe(false);
  });

  test('the JSON Schema is draft-07 with named, described definitions for editors', () => {
    expect(jsonSchema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(jsonSchema.title).toBe('Ansible YAML inventory (as read by remedy)');
    expect(Object.keys(jsonSchema.definitions).sort()).toEqual(expect.arrayContaining(['Group', 'GroupVars', 'HostVars']));
    const group = jsonSchema.definitions.Group;
    expect(group.additionalProperties).toBe(false);
    expect(Object.keys(group.properties).sort()).toEqual(['children', 'hosts', 'vars']);
  });

  test('the ansible_* vars remedy honours are described, and other vars are allowed', () => {
    const hostVars = jsonSchema.definitions.HostVars;
    for (const key of [
      'ansible_host',
      'ansible_port',
      'ansible_user',
      'ansible_connection',
      'ansible_ssh_private_key_file',
      'ansible_ssh_common_args',
      'ansible_become',
      'ansible_become_method',
      'ansible_become_user',
      'ansible_become_password',
      'remedy_known_hosts',
      'remedy_proxy_jump',
    ]) {
      expect(hostVars.properties[key]?.description, key).toMatch(/\w{4,}/);
    }
    expect(hostVars.properties.ansible_become_method.description).toContain('sudo (default), runuser or none');
    expect(hostVars.additionalProperties).toBeTruthy();
    expect(jsonSchema.definitions.GroupVars.properties.ansible_group_priority.description).toContain('priority');
  });
});
