import { describe, expect, test } from 'vitest';
import { applyCaptures } from '../../src/engine/capture.js';

const out = (stdout: string, exitCode: number | null = 0, stderr = '') => ({ stdout, stderr, exitCode });

describe('applyCaptures', () => {
  test('stdout, stderr and exit_code shorthands are trimmed / numeric', () => {
    const r = applyCaptures({ a: 'stdout', b: 'stderr', c: 'exit_code' }, out('  hello \n', 3, ' oops\n'));
    expect(r.facts).toEqual({ a: 'hello', b: 'oops', c: 3 });
    expect(r.problems).toEqual([]);
  });

  test('regex takes group 1 by default, group 0 without groups, named groups, and converts', () => {
    const text = 'pid 4242\nstate RUNNING\n';
    const r = applyCaptures(
      {
        pid: { from: 'stdout', regex: '^pid (\\d+)$', as: 'integer' },
        whole: { from: 'stdout', regex: 'state \\w+' },
        named: { from: 'stdout', regex: 'state (?<s>\\w+)', group: 's' },
        second: { from: 'stdout', regex: '(pid) (\\d+)', group: 2 },
      },
      out(text),
    );
    expect(r.facts).toEqual({ pid: 4242, whole: 'state RUNNING', named: 'RUNNING', second: '4242' });
  });

  test('regex all returns every match, converted', () => {
    const r = applyCaptures({ codes: { from: 'stdout', regex: 'HTTP (\\d{3})', all: true, as: 'integer' } }, out('HTTP 502\nHTTP 200\nHTTP 502'));
    expect(r.facts.codes).toEqual([502, 200, 502]);
  });

  test('json, number, boolean and lines', () => {
    const r = applyCaptures(
      {
        j: { from: 'stdout', json: true },
        n: { from: 'stderr', as: 'number' },
        b: { from: 'stdout', regex: 'up=(\\w+)', as: 'boolean' },
        l: { from: 'stderr', as: 'lines' },
      },
      out('{"up": true, "n": [1,2]}\nup=yes', 0, ' 1.5 '),
    );
    expect(r.facts.n).toBe(1.5);
    expect(r.facts.b).toBe(true);
    expect(r.facts.l).toEqual(['1.5']);
    expect(r.facts.j).toBe(null);
    expect(r.problems[0]).toMatch(/capture j: output is not valid JSON/);
  });

  test('a failed capture falls back to its default and says why', () => {
    const r = applyCaptures(
      {
        pid: { from: 'stdout', regex: 'pid (\\d+)', as: 'integer', default: -1 },
        count: { from: 'stdout', as: 'integer', default: 0 },
        nothing: { from: 'stdout', regex: 'absent (\\d+)' },
      },
      out('no such thing'),
    );
    expect(r.facts).toEqual({ pid: -1, count: 0, nothing: null });
    expect(r.problems).toHaveLength(2);
    expect(r.problems.join('\n')).toMatch(/count: "no such thing" is not an integer; using 0/);
    expect(r.problems.join('\n')).toMatch(/nothing: \/absent \(\\d\+\)\/ did not match; using null/);
  });

  test('exit_code with a conversion', () => {
    const r = applyCaptures({ failed: { from: 'exit_code', as: 'boolean' } }, out('', 1));
    expect(r.facts.failed).toBe(true);
  });
});
