// Every inventory of the shared corpus (75 real Ansible inventories, each with ansible-core 2.14's
// own answers in expected/) read by remedy and compared with Ansible: load or refuse, hosts,
// groups, merged vars, group_names, --graph, and the hosts of every pattern in Ansible's order.
// The corpus is read in place from ../shared beside the repository; nothing is copied from it.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { groupNames, inventoryGraph, inventoryList, loadInventory, selectHosts } from '../../src/inventory/index.js';
import type { Inventory } from '../../src/inventory/index.js';

const CORPUS = resolve(import.meta.dirname, '../../../shared/inventory-corpus');
const MANIFEST = join(CORPUS, 'manifest.tsv');

interface Entry {
  dir: string;
  inventory: string;
}

function entries(): Entry[] {
  if (!existsSync(MANIFEST)) {
    throw new Error(
      `the inventory corpus is missing: expected ${MANIFEST} (the shared/ folder beside the repository clone). ` +
        'This test compares remedy with Ansible on it and cannot pass without it.',
    );
  }
  const [header, ...rows] = readFileSync(MANIFEST, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const cols = (header ?? '').split('\t');
  return rows.map((row) => {
    const cells = row.split('\t');
    return { dir: cells[cols.indexOf('dir')] ?? '', inventory: cells[cols.indexOf('inventory')] ?? '' };
  });
}

/** Python's Infinity/NaN, which the corpus writes as {"$float": "Infinity"}. */
function revive(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const f = (value as Record<string, unknown>).$float;
    if (keys.length === 1 && typeof f === 'string') return Number(f);
  }
  return value;
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'), revive);
}

interface PatternAnswer {
  pattern: string;
  hosts?: string[];
  variants?: string[][];
  error?: string;
}

const tally = { entries: 0, loads: 0, hosts: 0, groups: 0, vars: 0, groupNames: 0, graphs: 0, patterns: 0, patternsMatched: 0 };
const patternMisses: string[] = [];

const all = entries();

describe('the Ansible inventory corpus, read by remedy as ansible-core 2.14 reads it', () => {
  test('the corpus is there and complete', () => {
    expect(all.length).toBe(75);
  });

  for (const entry of all) {
    test(entry.dir, () => {
      tally.entries++;
      const base = join(CORPUS, entry.dir);
      const expected = join(base, 'expected');
      const refused = existsSync(join(expected, 'error.txt'));
      let inv: Inventory | undefined;
      let error: unknown;
      try {
        inv = loadInventory(join(base, entry.inventory));
      } catch (err) {
        error = err;
      }
      if (refused) {
        expect(inv, 'Ansible refuses this inventory; remedy must too').toBeUndefined();
        tally.loads++;
        tally.hosts++;
        tally.groups++;
        tally.vars++;
        tally.groupNames++;
        tally.graphs++;
        return;
      }
      if (!inv) throw new Error(`Ansible loads ${entry.dir}; remedy refused it: ${(error as Error).message}`);
      tally.loads++;

      const list = readJson(join(expected, 'list.json')) as Record<string, unknown> & { _meta: { hostvars: Record<string, unknown> } };
      const ours = inventoryList(inv);
      const { _meta: theirMeta, ...theirGroups } = list;
      const { _meta: ourMeta, ...ourGroups } = ours;
      const theirHosts = hostNamesOf(list);
      const ourHosts = hostNamesOf(ours as unknown as typeof list);
      expect(ourHosts, 'hosts').toEqual(theirHosts);
      tally.hosts++;
      expect(ourGroups, 'groups (direct hosts and children, in order)').toEqual(theirGroups);
      expect(inventoryGraph(inv), '--graph').toBe(readFileSync(join(expected, 'graph.txt'), 'utf8'));
      tally.groups++;
      tally.graphs++;
      expect(ourMeta.hostvars, 'merged vars per host').toEqual(theirMeta.hostvars);
      tally.vars++;
      const names = readJson(join(expected, 'group_names.json')) as Record<string, string[]>;
      for (const [host, groups] of Object.entries(names)) {
        if (!inv.hosts.has(host)) continue; // Ansible's implicit localhost, asked for by the oracle
        expect(groupNames(inv, host), `group_names of ${host}`).toEqual(groups);
      }
      tally.groupNames++;

      const answers = readFileSync(join(expected, 'patterns.json'), 'utf8');
      for (const answer of JSON.parse(answers) as PatternAnswer[]) {
        tally.patterns++;
        let got: string[] | string;
        try {
          got = selectHosts(inv, answer.pattern);
        } catch (err) {
          got = `error: ${(err as Error).message}`;
        }
        const accepted = answer.error !== undefined ? [] : [answer.hosts ?? [], ...(answer.variants ?? [])];
        const ok = answer.error !== undefined ? typeof got === 'string' : accepted.some((a) => JSON.stringify(a) === JSON.stringify(got));
        if (ok) tally.patternsMatched++;
        else patternMisses.push(`${entry.dir}: '${answer.pattern}' → remedy ${JSON.stringify(got)}, Ansible ${JSON.stringify(answer.error ?? answer.hosts)}`);
      }
    });
  }

  afterAll(() => {
    const pct = (n: number, of: number): string => `${n}/${of} (${of === 0 ? 0 : ((100 * n) / of).toFixed(1)}%)`;
    console.log(
      [
        'inventory corpus against ansible-core 2.14:',
        `  loads or refusals ${pct(tally.loads, tally.entries)}`,
        `  hosts             ${pct(tally.hosts, tally.entries)}`,
        `  groups and graph  ${pct(tally.groups, tally.entries)}`,
        `  merged vars       ${pct(tally.vars, tally.entries)}`,
        `  group_names       ${pct(tally.groupNames, tally.entries)}`,
        `  pattern answers   ${pct(tally.patternsMatched, tally.patterns)} (hosts and order)`,
        ...patternMisses.map((m) => `  miss: ${m}`),
      ].join('\n'),
    );
  });

  test('at least 99% of pattern answers match Ansible, hosts and order', () => {
    // Runs after the per-entry tests above (vitest keeps declaration order within a file).
    expect(tally.patterns).toBeGreaterThan(1000);
    expect(tally.patternsMatched / tally.patterns, patternMisses.join('\n')).toBeGreaterThanOrEqual(0.99);
  });
});

function hostNamesOf(list: Record<string, unknown> & { _meta: { hostvars: Record<string, unknown> } }): string[] {
  const names = new Set<string>(Object.keys(list._meta.hostvars));
  for (const [name, group] of Object.entries(list)) {
    if (name === '_meta') continue;
    for (const h of (group as { hosts?: string[] }).hosts ?? []) names.add(h);
  }
  return [...names].sort();
}
