import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError, ValidationError } from '../../src/errors.js';
import { durationMs, loadRunbook, parseExtraVars, resolveParams, resolveRunbookRef, type LoadedRunbook } from '../../src/runbook/index.js';
import { parseSource, positionInScalar } from '../../src/runbook/source.js';

const root = mkdtempSync(path.join(tmpdir(), 'remedy-loader-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(rel: string, text: string): string {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

function errorsOf(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

const PARENT = `name: parent
summary: Includes a block by name and one by path.
params:
  batch: { type: integer, default: 2 }
steps:
  - id: status
    name: status
    hosts: message_processors
    run: echo up=true
    capture:
      up: { regex: 'up=(\\w+)', as: boolean }
  - id: restart
    name: restart the ones that are down
    hosts: message_processors
    when: "!facts.up"
    include:
      runbook: restart-block
      params:
        serial: "{{ batch }}"
  - id: check
    name: check
    hosts: message_processors
    when: facts.restarted
    include:
      runbook: ./blocks/check-block.yaml
`;
const RESTART = `name: restart-block
summary: Restart.
params:
  serial: { type: integer, default: 1 }
steps:
  - id: restart
    name: restart
    mutates: true
    serial: "{{ serial }}"
    run: apigee-service edge-message-processor restart && echo done
    capture:
      restarted: { regex: '(done)', as: boolean, default: false }
`;
const CHECK = `name: check-block
summary: Check.
steps:
  - id: up
    name: up
    run: curl -s http://127.0.0.1:8082/v1/servers/self/up
`;

describe('loadRunbook', () => {
  const lib = path.join(root, 'lib');
  write('lib/parent.yaml', PARENT);
  write('lib/blocks/restart-block.yaml', RESTART);
  write('lib/blocks/check-block.yaml', CHECK);

  it('loads a runbook with includes by name and by path, keyed by the including step id', () => {
    const { loaded, warnings } = loadRunbook(path.join(lib, 'parent.yaml'), { searchDirs: [lib] });
    expect(warnings).toEqual([]);
    expect(loaded.file).toBe(path.join(lib, 'parent.yaml'));
    expect(loaded.runbook.name).toBe('parent');
    expect([...loaded.includes.keys()]).toEqual(['restart', 'check']);
    expect(loaded.includes.get('restart')?.file).toBe(path.join(lib, 'blocks/restart-block.yaml'));
    expect(loaded.includes.get('check')?.runbook.name).toBe('check-block');
  });

  it('applies schema defaults (the zod output)', () => {
    const file = write(
      'defaults.yaml',
      'name: defaults\nsummary: s\nparams:\n  x: {}\nsteps:\n  - id: d\n    name: d\n    decide:\n      causes:\n        - cause: a\n          when: "true"\n',
    );
    const { loaded } = loadRunbook(file);
    expect(loaded.runbook.params?.['x']?.type).toBe('string');
    const step = loaded.runbook.steps[0];
    expect(step && 'decide' in step ? step.decide.default : undefined).toBe('none');
  });

  it('maps paths to 1-based positions, falling back to the nearest parent', () => {
    const { loaded } = loadRunbook(path.join(lib, 'parent.yaml'), { searchDirs: [lib] });
    expect(loaded.position(['steps', 1, 'when'])).toEqual({ line: 15, col: 11 });
    expect(loaded.position(['steps', 1, 'include', 'params', 'serial'])).toEqual({ line: 19, col: 17 });
    expect(loaded.position(['steps', 2])).toEqual({ line: 20, col: 5 });
    expect(loaded.position(['steps', 2, 'nothing', 'here'])).toEqual({ line: 20, col: 5 });
    expect(loaded.position(['params', 'batch', 'default'])).toEqual({ line: 4, col: 36 });
    expect(loaded.position([])).toEqual({ line: 1, col: 1 });
  });

  it('collects every problem of every file before throwing, each with file:line:col', () => {
    write(
      'bad/main.yaml',
      'name: main\nsummary: s\nsteps:\n  - id: a\n    name: a\n    run: echo {{ params.nope }}\n  - id: a\n    name: b\n    include:\n      runbook: child\n',
    );
    write('bad/child.yaml', 'name: child\nsummary: s\nsteps:\n  - id: c\n    name: c\n    when: facts.missing\n    run: echo\n');
    const err = errorsOf(() => loadRunbook(path.join(root, 'bad/main.yaml'), { searchDirs: [] }));
    const lines = err.diagnostics.map((d) => `${path.basename(d.file)}:${d.line}:${d.col}: ${d.message}`);
    expect(lines).toEqual([
      'main.yaml:6:25: unknown param "nope"; this runbook declares no params',
      'main.yaml:7:9: duplicate step id "a" (first used on line 4)',
      'child.yaml:6:17: fact "missing" is not captured by any earlier step',
    ]);
    expect(err.exitCode).toBe(64);
  });

  it('returns warnings without throwing', () => {
    const file = write('warn/warned.yaml', 'name: warned\nsummary: s\nsteps:\n  - id: r\n    name: r\n    run: systemctl restart nginx\n');
    const { warnings } = loadRunbook(file);
    expect(warnings.map((w) => `${w.line}:${w.col} ${w.severity}`)).toEqual(['6:10 warning']);
  });

  it('names an include cycle', () => {
    write('cycle/a.yaml', 'name: a\nsummary: s\nsteps:\n  - id: to_b\n    name: b\n    include:\n      runbook: b\n');
    write('cycle/b.yaml', 'name: b\nsummary: s\nsteps:\n  - id: to_c\n    name: c\n    include:\n      runbook: c\n');
    write('cycle/c.yaml', 'name: c\nsummary: s\nsteps:\n  - id: to_a\n    name: a\n    include:\n      runbook: a.yaml\n');
    const err = errorsOf(() => loadRunbook(path.join(root, 'cycle/a.yaml'), { searchDirs: [] }));
    expect(err.diagnostics).toHaveLength(1);
    expect(err.diagnostics[0]).toMatchObject({ line: 7, col: 16, message: 'include cycle: a.yaml → b.yaml → c.yaml → a.yaml' });
    expect(err.diagnostics[0]?.file).toMatch(/cycle\/c\.yaml$/);
  });

  it('loads a diamond (two includes of one runbook) once, without calling it a cycle', () => {
    write(
      'diamond/top.yaml',
      'name: top\nsummary: s\nsteps:\n  - id: one\n    name: one\n    include: { runbook: leaf }\n  - id: two\n    name: two\n    include: { runbook: leaf }\n',
    );
    write('diamond/leaf.yaml', 'name: leaf\nsummary: s\nsteps:\n  - id: l\n    name: l\n    run: "true"\n');
    const { loaded } = loadRunbook(path.join(root, 'diamond/top.yaml'), { searchDirs: [] });
    expect(loaded.includes.get('one')).toBe(loaded.includes.get('two'));
  });
});

describe('resolveRunbookRef', () => {
  write('search/runbooks/apigee/apigee-502-bad-gateway.yaml', 'x');
  write('search/runbooks/other/apigee-502-bad-gateway.yml', 'x');
  write('search/local/apigee-502-bad-gateway.yaml', 'x');
  write('search/local/from.yaml', 'x');
  const dirs = [path.join(root, 'search/runbooks')];

  it('finds runbooks/**/<name>.yaml by name, depth-first in sorted order', () => {
    expect(resolveRunbookRef('apigee-502-bad-gateway', undefined, dirs)).toBe(path.join(root, 'search/runbooks/apigee/apigee-502-bad-gateway.yaml'));
  });

  it('resolves includes next to the including file first', () => {
    expect(resolveRunbookRef('apigee-502-bad-gateway', path.join(root, 'search/local/from.yaml'), dirs)).toBe(
      path.join(root, 'search/local/apigee-502-bad-gateway.yaml'),
    );
  });

  it('takes paths relative to the including file, or to the working directory', () => {
    expect(resolveRunbookRef('../runbooks/other/apigee-502-bad-gateway.yml', path.join(root, 'search/local/from.yaml'), dirs)).toBe(
      path.join(root, 'search/runbooks/other/apigee-502-bad-gateway.yml'),
    );
    expect(resolveRunbookRef(path.join(root, 'search/local/from.yaml'))).toBe(path.join(root, 'search/local/from.yaml'));
  });

  it('says where it looked when nothing matches', () => {
    expect(() => resolveRunbookRef('no-such-runbook', undefined, dirs)).toThrow(UsageError);
    expect(() => resolveRunbookRef('no-such-runbook', undefined, dirs)).toThrow(`no no-such-runbook.yaml in ${dirs[0]}`);
    expect(() => resolveRunbookRef('missing.yaml', undefined, dirs)).toThrow(/runbook not found: missing\.yaml/);
  });

  it('finds the shipped runbooks by name by default', () => {
    expect(resolveRunbookRef('apigee-502-bad-gateway')).toMatch(/runbooks\/apigee\/apigee-502-bad-gateway\.yaml$/);
  });
});

describe('resolveParams', () => {
  const file = write(
    'params/typed.yaml',
    `name: typed
summary: s
params:
  name: { default: mp, pattern: '[a-z]+' }
  count: { type: integer, default: 3, min: 1, max: 5 }
  force: { type: boolean, default: false }
  wait: { type: duration, default: 30s }
  mode: { type: enum, values: [rolling, all], default: rolling }
  token: { secret: true, required: true }
  optional_note: {}
steps:
  - id: s
    name: s
    run: echo {{ params.name }}
`,
  );
  const { loaded } = loadRunbook(file);

  it('applies defaults and coerces -e strings by type', () => {
    expect(resolveParams(loaded, { token: 't0k' })).toEqual({ name: 'mp', count: 3, force: false, wait: '30s', mode: 'rolling', token: 't0k' });
    expect(resolveParams(loaded, { token: 't', count: '5', force: 'yes', wait: '1m30s', mode: 'all', name: 'abc' })).toMatchObject({
      count: 5,
      force: true,
      wait: '1m30s',
      mode: 'all',
      name: 'abc',
    });
  });

  it('rejects unknown keys, bad values and missing required params, with exit 64', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ token: 't', cuont: '2' }, /unknown param "cuont" for runbook typed \(its params: name, count/],
      [{ token: 't', count: 'two' }, /param count: expected an integer, got "two"/],
      [{ token: 't', count: '9' }, /param count: 9 is above the maximum 5/],
      [{ token: 't', force: 'maybe' }, /param force: expected true or false/],
      [{ token: 't', wait: '30 seconds' }, /param wait: expected a duration/],
      [{ token: 't', mode: 'parallel' }, /param mode: expected one of rolling, all/],
      [{ token: 't', name: 'ABC' }, /does not match the pattern/],
      [{}, /param token is required for runbook typed: pass -e token=VALUE/],
    ];
    for (const [overrides, message] of cases) {
      let caught: unknown;
      try {
        resolveParams(loaded, overrides);
      } catch (err) {
        caught = err;
      }
      expect(caught, JSON.stringify(overrides)).toBeInstanceOf(UsageError);
      expect((caught as UsageError).message).toMatch(message);
      expect((caught as UsageError).exitCode).toBe(64);
    }
  });

  it('never prints a secret value, even when it is invalid', () => {
    const secret = write(
      'params/secret.yaml',
      'name: secret\nsummary: s\nparams:\n  pin: { type: integer, secret: true }\nsteps:\n  - id: s\n    name: s\n    run: "true"\n',
    );
    const r = loadRunbook(secret).loaded;
    expect(() => resolveParams(r, { pin: 'hunter2' })).toThrow('param pin: expected an integer, got "********"');
  });

  it('a loaded include gets its params through the same function (the planner passes rendered strings)', () => {
    const lib = path.join(root, 'lib');
    const { loaded: parent } = loadRunbook(path.join(lib, 'parent.yaml'), { searchDirs: [lib] });
    const child = parent.includes.get('restart') as LoadedRunbook;
    expect(resolveParams(child, { serial: '4' })).toEqual({ serial: 4 });
  });
});

describe('parseExtraVars', () => {
  it('parses key=value (value may hold =), later wins', () => {
    expect(parseExtraVars(['a=1', 'b=x=y', 'a=2', 'empty='])).toEqual({ a: '2', b: 'x=y', empty: '' });
  });

  it('reads @file.yaml and inline {key: value} maps', () => {
    const f = write('vars.yaml', 'count: 3\nforce: true\nname: "x y"\n');
    expect(parseExtraVars([`@${f}`, '{mode: all}'])).toEqual({ count: '3', force: 'true', name: 'x y', mode: 'all' });
  });

  it('rejects what it cannot read', () => {
    expect(() => parseExtraVars(['novalue'])).toThrow(UsageError);
    expect(() => parseExtraVars(['=x'])).toThrow(UsageError);
    expect(() => parseExtraVars([`@${path.join(root, 'nope.yaml')}`])).toThrow(/cannot read/);
    const list = write('list.yaml', '- a\n- b\n');
    expect(() => parseExtraVars([`@${list}`])).toThrow(/expected a map/);
    const nested = write('nested.yaml', 'a: { b: 1 }\n');
    expect(() => parseExtraVars([`@${nested}`])).toThrow(/must be a string, number or boolean/);
  });
});

describe('durationMs', () => {
  it('adds up units', () => {
    expect(durationMs('500ms')).toBe(500);
    expect(durationMs('30s')).toBe(30_000);
    expect(durationMs('1m30s')).toBe(90_000);
    expect(durationMs('1h5m')).toBe(3_900_000);
  });
  it('rejects what is not a duration', () => {
    expect(() => durationMs('30')).toThrow(/not a duration/);
    expect(() => durationMs('5 minutes')).toThrow(/not a duration/);
  });
});

describe('positions inside strings', () => {
  const text = [
    'plain: echo {{ x }}',
    'quoted: "a \\"b\\" {{ x }}"',
    'block: |',
    '  line one',
    '    indented {{ x }}',
    'folded: >-',
    '  first',
    '  second {{ x }}',
    '',
  ].join('\n');
  const { source } = parseSource('f.yaml', text);
  const at = (key: string): { line: number; col: number } => {
    const value = String((source.doc.toJS() as Record<string, string>)[key]);
    return positionInScalar(source, [key], value.indexOf('{{'));
  };

  it('maps an offset in the value to the line and column in the file', () => {
    expect(at('plain')).toEqual({ line: 1, col: 13 });
    expect(at('quoted')).toEqual({ line: 2, col: 18 });
    expect(at('block')).toEqual({ line: 5, col: 14 });
    expect(at('folded')).toEqual({ line: 8, col: 10 });
  });
});

describe('imports: shared vars files', () => {
  it("puts imported vars before the runbook's own, in order, and plans commands from them", () => {
    write('shared/paths.vars.yaml', 'vars:\n  root: /opt/apigee\n  service: "{{ root }}/apigee-service/bin/apigee-service"\n');
    write('shared/more.vars.yaml', 'vars:\n  log_dir: "{{ root }}/var/log"\n');
    const file = write(
      'importer.yaml',
      'name: importer\nsummary: s\nimports: [shared/paths.vars.yaml, shared/more.vars.yaml]\nvars:\n  status: "{{ service }} edge-router status"\nsteps:\n  - id: a\n    name: a\n    run: "{{ status }} > {{ log_dir }}/s.txt"\n',
    );
    const { loaded, warnings } = loadRunbook(file);
    expect(warnings).toEqual([]);
    expect(Object.keys(loaded.runbook.vars ?? {})).toEqual(['root', 'service', 'log_dir', 'status']);
    expect(loaded.runbook.vars?.service).toBe('{{ root }}/apigee-service/bin/apigee-service');
  });

  it('a var of an imported file may not use a var declared only in the runbook (order is imports first)', () => {
    write('shared/uses-later.vars.yaml', 'vars:\n  service: "{{ vars.root }}/bin"\n');
    const file = write(
      'uses-later.yaml',
      'name: uses-later\nsummary: s\nimports: [shared/uses-later.vars.yaml]\nvars:\n  root: /opt\nsteps:\n  - id: a\n    name: a\n    run: ls {{ service }}\n',
    );
    const err = errorsOf(() => loadRunbook(file));
    expect(err.diagnostics.map((d) => `${path.basename(d.file)}:${d.line}:${d.col}`)).toContain('uses-later.vars.yaml:2:21');
  });
});
