// validateFiles beyond errors: the warnings that keep a runbook honest, checks against an
// inventory, and inventories among the files given.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/errors.js';
import { loadInventory } from '../../src/inventory/index.js';
import { validateFiles, validatePaths } from '../../src/runbook/index.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'remedy-validate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runbook(name: string, steps: string, head = ''): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\nsummary: s\n${head}steps:\n${steps}`);
  return file;
}

function lines(file: string, options: Parameters<typeof validateFiles>[1] = {}): string[] {
  return validateFiles([file], options).map((d) =>
    formatDiagnostic(d)
      .replace(`${file}:`, '')
      .replace(`${path.relative(process.cwd(), file)}:`, ''),
  );
}

describe('warnings', () => {
  it('| raw in a command', () => {
    const f = runbook('raw', '  - id: a\n    name: a\n    run: echo {{ params.x | raw }}\n', 'params:\n  x: { default: hi }\n');
    expect(lines(f)).toEqual(['8:27: warning: "| raw" turns off shell quoting: the value is pasted into the command as shell code']);
  });

  it('a command that looks mutating without mutates: true; not for read-only look-alikes', () => {
    const f = runbook(
      'looks',
      [
        '  - id: a',
        '    name: a',
        '    run: |',
        '      pid=$(cat /run/mp.pid)',
        '      kill -3 "$pid"',
        '      kill -0 "$pid" && sed -n 1p /etc/hosts',
        '      systemctl status nginx',
        '  - id: b',
        '    name: b',
        '    run: /opt/apigee/apigee-service/bin/apigee-service edge-router restart',
        '  - id: c',
        '    name: c',
        '    mutates: true',
        '    run: rm -f /tmp/x',
        '  - id: d',
        '    name: d',
        '    mutates: false',
        '    run: rm -f /tmp/remedy-own-temp-file',
        '',
      ].join('\n'),
    );
    expect(lines(f)).toEqual([
      '13:68: warning: this command looks like it changes the host ("restart") but the step does not declare mutates: true (or mutates: false if it does not)',
    ]);
  });

  it('confirm on a read-only step, rollback on a read-only run step', () => {
    const f = runbook(
      'readonly',
      '  - id: a\n    name: a\n    confirm: sure?\n    fetch: { src: /etc/hosts }\n  - id: b\n    name: b\n    run: "true"\n    rollback:\n      - id: c\n        name: c\n        run: "true"\n',
    );
    expect(lines(f)).toEqual([
      '6:5: warning: confirm is asked before steps that change a host; this fetch step is read-only, so it is never asked',
      '11:5: warning: rollback runs when a mutating step fails; this run step is read-only (add mutates: true if it changes the host)',
    ]);
  });

  it('rollback_hosts only inside rollback:', () => {
    const f = runbook(
      'rbhosts',
      '  - id: a\n    name: a\n    mutates: true\n    rollback_hosts: all\n    run: "true"\n    rollback:\n      - id: c\n        name: c\n        mutates: true\n        rollback_hosts: all\n        run: "true"\n',
    );
    expect(lines(f)).toEqual(['7:5: rollback_hosts says which hosts a rollback step runs on; it only applies to a step inside rollback:']);
  });
});

describe('bare names', () => {
  it('without an inventory, warn only when a name looks like a typo of a param or var', () => {
    const f = runbook(
      'typo',
      '  - id: a\n    name: a\n    run: curl -m {{ probe_timout | seconds }} {{ apigee_root }}\n',
      'params:\n  probe_timeout: { type: duration, default: 60s }\n',
    );
    expect(lines(f)).toEqual(['8:21: warning: "probe_timout" is not a param or var (did you mean "probe_timeout"?), so it must come from the inventory']);
  });
});

describe('against an inventory', () => {
  const inventory = loadInventory(path.join(repo, 'inventory/example.yaml'));

  it('warns about patterns that select no host, in hosts: and in hosts() alike', () => {
    const f = runbook(
      'patterns',
      '  - id: a\n    name: a\n    hosts: dc_3:&routers\n    run: "true"\n  - id: d\n    name: d\n    decide:\n      causes:\n        - cause: x\n          when: hosts("edge_routers").exists(h, h.status == "ok")\n',
    );
    expect(lines(f, { inventory })).toEqual([
      `6:12: warning: host pattern "dc_3:&routers" matches no host in ${inventory.source}`,
      `13:24: warning: host pattern "edge_routers" matches no host in ${inventory.source}`,
    ]);
    expect(lines(f)).toEqual([]);
  });

  it('warns once about a bare name that is neither a param, a var nor any host var', () => {
    const f = runbook(
      'invvars',
      '  - id: a\n    name: a\n    hosts: routers\n    run: ls {{ apigee_root }} {{ apigee_rot }} {{ apigee_rot }} {{ n }} {{ v }}\n',
      'params:\n  n: { default: x }\nvars:\n  v: y\n',
    );
    expect(lines(f, { inventory })).toEqual([`11:34: warning: "apigee_rot" is not a param or var, and no host in ${inventory.source} defines it`]);
  });

  it('the shipped runbooks select hosts of the example inventory', { timeout: 60_000 }, () => {
    const diagnostics = validateFiles([path.join(repo, 'runbooks')], { inventory });
    expect(diagnostics.filter((d) => /matches no host|no host in/.test(d.message)).map(formatDiagnostic)).toEqual([]);
  });
});

describe('inventories among the files', () => {
  it('are recognised and validated with the inventory reader', () => {
    const report = validatePaths([path.join(repo, 'inventory/example.yaml')]);
    expect(report.files).toEqual([{ file: 'inventory/example.yaml', kind: 'inventory' }]);
    expect(report.diagnostics).toEqual([]);
    const bad = path.join(dir, 'hosts.ini');
    writeFileSync(bad, '[routers]\nr1 ansible_port=abc\n[routers:vars\n');
    const broken = validatePaths([bad]);
    expect(broken.files[0]?.kind).toBe('inventory');
    expect(broken.diagnostics.some((d) => d.severity === 'error' && d.line >= 2)).toBe(true);
  });
});
