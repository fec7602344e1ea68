// Ansible's host pattern grammar over the inventory model.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { limitHosts, parseInventory, selectHosts, validatePattern } from '../../src/inventory/index.js';

const inv = parseInventory(
  `
all:
  children:
    dc_1:
      children:
        routers_1: { hosts: { router-1: , router-2: } }
        mps_1: { hosts: { mp-1: , mp-2: , mp-3: } }
    dc_2:
      children:
        routers_2: { hosts: { router-3: } }
        mps_2: { hosts: { mp-4: , mp-10: } }
    routers: { children: { routers_1: , routers_2: } }
    message_processors: { children: { mps_1: , mps_2: } }
    web.prod: { hosts: { web-1.example.com: } }
    mp-2: { hosts: { mp-10: } }
`,
  'patterns.yaml',
);
// Ansible's order for `all`: hosts of its children in the order listed (web.prod and mp-2 hold hosts
// directly), then of their children (routers_1, mps_1, routers_2, mps_2).
const ALL = ['web-1.example.com', 'mp-10', 'router-1', 'router-2', 'mp-1', 'mp-2', 'mp-3', 'router-3', 'mp-4'];
const select = (pattern: string) => selectHosts(inv, pattern);

describe('selectHosts', () => {
  test("all and * select every host, in Ansible's group order", () => {
    expect(select('all')).toEqual(ALL);
    expect(select('*')).toEqual(ALL);
  });

  test('a group selects its hosts and those of its child groups; a host name selects the host', () => {
    expect(select('dc_1')).toEqual(['router-1', 'router-2', 'mp-1', 'mp-2', 'mp-3']);
    expect(select('mp-4')).toEqual(['mp-4']);
    expect(select('web-1.example.com')).toEqual(['web-1.example.com']);
    expect(select('web.prod')).toEqual(['web-1.example.com']);
  });

  test('a plain host name wins over a group of the same name, as in Ansible', () => {
    expect(select('mp-2')).toEqual(['mp-2']);
    // ...but as a glob both the group and hosts match.
    expect(select('mp-2*')).toEqual(['mp-10', 'mp-2']);
  });

  test('union with : or , (and spaces around them), in the order written, without duplicates', () => {
    expect(select('mps_2:routers_1')).toEqual(['mp-4', 'mp-10', 'router-1', 'router-2']);
    expect(select('mps_2, routers_1 ,mp-4')).toEqual(['mp-4', 'mp-10', 'router-1', 'router-2']);
    // With a comma anywhere, Ansible splits on commas only: 'routers_1:mps_2' is then one (unknown) name.
    expect(select('routers_1:mps_2,router-3')).toEqual(['router-3']);
  });

  test('intersection :& and exclusion :!', () => {
    expect(select('dc_1:&routers')).toEqual(['router-1', 'router-2']);
    expect(select('message_processors:!mp-3')).toEqual(['mp-1', 'mp-2', 'mp-4', 'mp-10']);
    expect(select('message_processors:!dc_2')).toEqual(['mp-1', 'mp-2', 'mp-3']);
  });

  test('unions apply first, then intersections, then exclusions, whatever the written order', () => {
    // Left to right this would be empty; Ansible's order gives dc_1's MPs but mp-1.
    expect(select('!mp-1:&dc_1:message_processors')).toEqual(['mp-2', 'mp-3']);
    expect(select('routers:!router-1:dc_2:&dc_2')).toEqual(['router-3', 'mp-4', 'mp-10']);
  });

  test('a pattern of only & or ! terms starts from all', () => {
    expect(select('!routers:!web.prod')).toEqual(['mp-10', 'mp-1', 'mp-2', 'mp-3', 'mp-4']);
    expect(select('&dc_2')).toEqual(['mp-10', 'router-3', 'mp-4']);
  });

  test('wildcards match group and host names (fnmatch: *, ?, [seq], [!seq])', () => {
    expect(select('*-1')).toEqual(['router-1', 'mp-1']);
    expect(select('router-?')).toEqual(['router-1', 'router-2', 'router-3']);
    expect(select('routers_*')).toEqual(['router-1', 'router-2', 'router-3']);
    expect(select('mp-[!1]*')).toEqual(['mp-10', 'mp-2', 'mp-3', 'mp-4']);
    expect(select('*.example.com')).toEqual(['web-1.example.com']);
  });

  test('~regex is matched from the start of the name, like Python re.match', () => {
    expect(select('~mp-(1|3)')).toEqual(['mp-1', 'mp-3', 'mp-10']);
    expect(select('~router-\\d$')).toEqual(['router-1', 'router-2', 'router-3']);
    // A regex matches group names too: the group mp-2 brings its host mp-10.
    expect(select('~mp-\\d$')).toEqual(['mp-10', 'mp-1', 'mp-2', 'mp-3', 'mp-4']);
    expect(select('~(?:router|mp)-[34]')).toEqual(['mp-3', 'router-3', 'mp-4']);
    expect(select('~-1')).toEqual([]);
    expect(select('~ROUTER')).toEqual([]);
    expect(select('~(?i)ROUTER-1')).toEqual(['router-1']);
    expect(select('~mp-\\d{2}:~router-[13]')).toEqual(['mp-10', 'router-1', 'router-3']);
    expect(select('~routers_')).toEqual(['router-1', 'router-2', 'router-3']);
  });

  test('subscripts: [i], [-i], inclusive [a:b], open [a:]', () => {
    expect(select('message_processors[0]')).toEqual(['mp-1']);
    expect(select('message_processors[-1]')).toEqual(['mp-10']);
    expect(select('message_processors[1:3]')).toEqual(['mp-2', 'mp-3', 'mp-4']);
    expect(select('message_processors[3:]')).toEqual(['mp-4', 'mp-10']);
    expect(select('routers[0]:message_processors[-1]')).toEqual(['router-1', 'mp-10']);
    expect(select('routers:!routers[0]')).toEqual(['router-2', 'router-3']);
    expect(select('routers[7]')).toEqual([]);
  });

  test('a pattern that matches nothing returns an empty list', () => {
    expect(select('nosuch')).toEqual([]);
    expect(select('nosuch*:&all')).toEqual([]);
    expect(select('routers:&message_processors')).toEqual([]);
  });

  test.each([
    ['', 'it is empty'],
    ['a:&', "'&' needs a group or host name after it"],
    ['a:!', "'!' needs a group or host name after it"],
    ['a:&!b', "'&!b' combines '&' and '!'; write a:&b or a:!b"],
    ['mp-[1', "unbalanced '['"],
    ['mp-1]', "']' without a matching opening bracket"],
    ['~mp-(1', "unbalanced '('"],
    ['~', "'~' needs a regular expression after it"],
    ['~a{2,1}', 'bad regular expression'],
  ])('%j is rejected: %s', (pattern, why) => {
    expect(() => select(pattern)).toThrow(UsageError);
    expect(() => select(pattern)).toThrow(`invalid host pattern '${pattern}': ${why}`);
    expect(validatePattern(pattern)).toContain(why);
  });

  test('empty elements are dropped, as Ansible drops them; IPv6 addresses and host:port stay whole', () => {
    expect(select('dc_2:')).toEqual(['router-3', 'mp-4', 'mp-10']);
    expect(select(':routers_2::mps_1')).toEqual(['router-3', 'mp-1', 'mp-2', 'mp-3']);
    expect(select('routers_2,,mps_1,')).toEqual(['router-3', 'mp-1', 'mp-2', 'mp-3']);
    const v6 = parseInventory('all:\n  hosts:\n    fe80::1:\n    "2001:db8::10":\n    db: { ansible_port: 5432 }\n', 'v6.yaml');
    expect(selectHosts(v6, 'fe80::1')).toEqual(['fe80::1']);
    expect(selectHosts(v6, '2001:db8::10,fe80::1')).toEqual(['2001:db8::10', 'fe80::1']);
    // Without a comma, a pattern that is not one address is split on ':' (as Ansible does), which
    // breaks an IPv6 address apart; with commas it stays whole.
    expect(selectHosts(v6, 'all:!fe80::1')).toEqual(['fe80::1', '2001:db8::10', 'db']);
    expect(selectHosts(v6, 'all,!fe80::1')).toEqual(['2001:db8::10', 'db']);
    expect(limitHosts(v6, [...v6.hosts.keys()], 'fe80::1')).toEqual(['fe80::1']);
  });

  test('answers are fresh arrays, and an inventory that grows is re-indexed', () => {
    const first = select('routers');
    first.push('intruder');
    expect(select('routers')).toEqual(['router-1', 'router-2', 'router-3']);
    const grown = parseInventory('all:\n  children:\n    g: { hosts: { a: } }\n', 'grown.yaml');
    expect(selectHosts(grown, 'g')).toEqual(['a']);
    const b = { ...grown.hosts.get('a')!, name: 'b' };
    grown.hosts.set('b', b);
    grown.groups.get('g')!.hosts.push('b');
    expect(selectHosts(grown, 'g')).toEqual(['a', 'b']);
  });

  test('validatePattern accepts good patterns without an inventory', () => {
    for (const p of ['all', 'dc_1:&routers', '!mp-3', 'mp-*', '~mp-[12]', 'g[0:2]', 'a,b', '~(?:a|b)-\\d{1,2}']) {
      expect(validatePattern(p)).toBeNull();
    }
  });
});

describe('limitHosts (--limit)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'remedy-limit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const mps = select('message_processors');

  test('keeps the hosts the limit selects, in the order given', () => {
    expect(limitHosts(inv, mps, 'dc_1')).toEqual(['mp-1', 'mp-2', 'mp-3']);
    expect(limitHosts(inv, ['mp-3', 'mp-1'], 'all:!mp-2')).toEqual(['mp-3', 'mp-1']);
    expect(limitHosts(inv, mps, 'routers')).toEqual([]);
  });

  test('no limit (or an empty one) keeps everything', () => {
    expect(limitHosts(inv, mps, undefined)).toEqual(mps);
    expect(limitHosts(inv, mps, '  ')).toEqual(mps);
  });

  test('@FILE names hosts one per line, like Ansible retry files', () => {
    const file = join(dir, 'retry');
    writeFileSync(file, 'mp-2\n\nmp-4\n');
    expect(limitHosts(inv, mps, `@${file}`)).toEqual(['mp-2', 'mp-4']);
    expect(limitHosts(inv, mps, `@${file}:mp-10`)).toEqual(['mp-2', 'mp-4', 'mp-10']);
    expect(() => limitHosts(inv, mps, `@${join(dir, 'missing')}`)).toThrow(/cannot read the --limit file .*missing: ENOENT/);
  });

  test('a bad limit is a usage error naming it', () => {
    expect(() => limitHosts(inv, mps, 'dc_1:mp-[1')).toThrow("invalid --limit 'dc_1:mp-[1': unbalanced '['");
  });
});
