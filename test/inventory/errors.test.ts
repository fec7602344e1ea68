// Broken inventories: every problem is reported as file:line:col with a message that says what to
// fix, exit code 64, all problems of a file at once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { reportError } from '../../src/cli/exit.js';
import { EXIT, UsageError, ValidationError } from '../../src/errors.js';
import { loadInventory, parseInventory, refuseUnusableHosts } from '../../src/inventory/index.js';

const DIR = 'test/fixtures/inventory/broken';

/** The first error loading the file, or (for settings refused per host) targeting all its hosts. */
function firstError(file: string): string {
  try {
    const inv = loadInventory(`${DIR}/${file}`);
    refuseUnusableHosts(inv, inv.hosts.keys());
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    expect(err.exitCode).toBe(EXIT.usage);
    const d = err.diagnostics.find((x) => x.severity === 'error')!;
    expect(d.file).toBe(`${DIR}/${file}`);
    return `${d.line}:${d.col}: ${d.message}`;
  }
  throw new Error(`${file} loaded without error`);
}

describe('broken YAML inventories', () => {
  test.each([
    ['yaml-syntax.yaml', '6:8: All mapping items must start at the same column'],
    ['duplicate-host.yaml', "4:5: duplicate key 'mp-1' (first at line 3)"],
    ['empty.yaml', '1:1: the inventory is empty; it needs at least `all:` with hosts'],
    ['group-list.yaml', '3:1: routers: a group is a mapping with hosts:, children: and vars:, not a list'],
    [
      'hosts-list.yaml',
      '4:7: all.children.routers.hosts: hosts is a mapping of host names, not a list: write `mp-1:` (with a colon) on its own line, vars indented under it',
    ],
    ['unknown-key.yaml', "4:7: all.children.routers: unknown key 'host'; a group has only hosts, children and vars"],
    ['bad-port.yaml', '5:7: all.hosts.mp-1.ansible_port: a port number is 1-65535'],
    ['bad-range.yaml', "3:5: invalid host range 'mp-[3:1]': the range must have begin <= end"],
    ['cycle.yaml', "7:13: group 'a' cannot be a child of 'b': that makes a cycle (a -> b -> a)"],
    ['become-su.yaml', "4:5: hosts mp-1, mp-2: ansible_become_method 'su' is not supported; remedy becomes with sudo, runuser or none"],
    ['vault.yaml', '3:5: ansible-vault values are not supported; pass the secret with -e or an environment variable'],
  ])('%s → %s', (file, expected) => {
    expect(firstError(file)).toBe(expected);
  });
});

describe('broken INI inventories', () => {
  test.each([
    ['ini-bad-section.ini', "4:1: invalid section header '[web servers]': expected [group], [group:children] or [group:vars], without spaces"],
    ['ini-unknown-section-type.ini', "1:6: section [web:host] has unknown type 'host'; use [web], [web:children] or [web:vars]"],
    ['ini-undefined-child.ini', "3:1: section [dc_1:children] includes undefined group 'mps'; add a [mps] section"],
    ['ini-vars-undefined-group.ini', "4:1: section [mps:vars] is for group 'mps', which is not defined; add a [mps] section"],
    ['ini-missing-equals.ini', "2:28: expected key=value after the host name, got 'region'"],
    ['ini-var-without-equals.ini', "4:1: expected key=value in [mps:vars], got 'just a line'"],
    ['ini-unclosed-quote.ini', '2:11: cannot read host line: no closing quotation'],
    ['ini-trailing-colon.ini', "2:1: invalid host 'mp-1:': a trailing ':' must be followed by a port number"],
    ['ini-cycle.ini', "5:1: group 'a' cannot be a child of 'b': that makes a cycle (a -> b -> a)"],
    ['ini-become-doas.ini', "7:1: hosts mp-1, mp-2: ansible_become_method 'doas' is not supported; remedy becomes with sudo, runuser or none"],
  ])('%s → %s', (file, expected) => {
    expect(firstError(file)).toBe(expected);
  });
});

describe('reporting', () => {
  test('every schema problem of a file is reported, in file order', () => {
    const text = 'all:\n  hosts:\n    a: { ansible_port: 0 }\n  childs: {}\n  vars: [1]\n';
    try {
      parseInventory(text, 'multi.yaml');
      throw new Error('expected a ValidationError');
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).message.split('\n')).toEqual([
        'multi.yaml:3:10: all.hosts.a.ansible_port: a port number is 1-65535',
        "multi.yaml:4:3: all: unknown key 'childs'; a group has only hosts, children and vars",
        'multi.yaml:5:3: all.vars: expected a mapping, got a list',
      ]);
    }
  });

  test('a host written as `name: address` gets a hint', () => {
    expect(() => parseInventory('all:\n  hosts:\n    mp-1: 10.0.0.5\n', 'hint.yaml')).toThrow(
      'hint.yaml:3:5: all.hosts.mp-1: a host takes a mapping of its vars (e.g. `ansible_host: 10.0.0.5` on the next line, indented) or nothing, got string "10.0.0.5"',
    );
  });

  test('the CLI prints file:line:col lines, exit 64, and no stack trace', () => {
    let out = '';
    const sink = new Writable({ write: (chunk, _enc, done) => ((out += String(chunk)), done()) });
    let code = -1;
    try {
      loadInventory(`${DIR}/cycle.yaml`);
    } catch (err) {
      code = reportError(err, sink);
    }
    expect(code).toBe(64);
    expect(out).toContain(`${DIR}/cycle.yaml:7:13: group 'a' cannot be a child of 'b'`);
    expect(out).not.toMatch(/\n\s+at /);
  });

  test('a missing inventory file is a usage error naming it', () => {
    expect(() => loadInventory(`${DIR}/nope.yaml`)).toThrow(UsageError);
    expect(() => loadInventory(`${DIR}/nope.yaml`)).toThrow(`inventory not found: ${DIR}/nope.yaml`);
  });

  test('a directory inventory is read file by file: a broken file is named, an empty directory refused', () => {
    // Unlike Ansible, which skips a source it cannot parse with a warning, remedy refuses it.
    expect(() => loadInventory(DIR)).toThrow(`${DIR}/bad-port.yaml`);
    const empty = mkdtempSync(join(tmpdir(), 'remedy-empty-inv-'));
    try {
      expect(() => loadInventory(empty)).toThrow(UsageError);
      expect(() => loadInventory(empty)).toThrow(`inventory directory ${empty} holds no inventory file`);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
