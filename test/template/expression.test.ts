import { describe, expect, it } from 'vitest';
import {
  checkExpression,
  describeExpression,
  evaluateCondition,
  evaluateExpression,
  ExpressionError,
  type ExpressionContext,
  type HostView,
} from '../../src/template/index.js';

function host(name: string, facts: Record<string, unknown>, extra: Partial<HostView> = {}): HostView {
  return {
    name,
    groups: ['all', 'message_processors', name.startsWith('dc1') ? 'dc_1' : 'dc_2'],
    vars: { region: name.slice(0, 3), mp_port: 8998 },
    facts,
    status: 'ok',
    ...extra,
  };
}

const fleet: HostView[] = [
  host('dc1-mp1', { mp_up: false, load: 2.5, threads: 40 }),
  host('dc1-mp2', { mp_up: false, load: 0.5, threads: 12 }),
  host('dc2-mp1', { mp_up: true, load: 1, threads: 30 }),
  host('dc2-mp2', {}, { status: 'unreachable' }),
];

function ctx(over: Partial<ExpressionContext> = {}): ExpressionContext {
  return {
    params: { force: false, min_down: 2, ratio: 0.5 },
    vars: { root: '/opt/apigee' },
    cause: null,
    selectHosts: (pattern) => {
      if (pattern === 'message_processors') return fleet;
      if (pattern === 'dc_1:&message_processors') return fleet.filter((h) => h.groups.includes('dc_1'));
      if (pattern === 'nobody') return [];
      throw new Error(`unexpected pattern ${pattern}`);
    },
    ...over,
  };
}

describe('per-host conditions', () => {
  const mp = fleet[0] as HostView;
  it('read the host facts, vars, params and the cause', () => {
    expect(evaluateCondition('!facts.mp_up && facts.load > 2 && host.vars.mp_port == 8998', ctx({ host: mp }))).toBe(true);
    expect(evaluateCondition('host.name == "dc1-mp1" && "dc_1" in host.groups', ctx({ host: mp }))).toBe(true);
    expect(evaluateCondition('params.force || vars.root.startsWith("/opt")', ctx())).toBe(true);
    expect(evaluateCondition('cause == "mps-down" && !facts.mp_up', ctx({ host: mp, cause: 'mps-down' }))).toBe(true);
  });

  it('see cause as "" before any decision', () => {
    expect(evaluateCondition('cause == ""', ctx({ cause: null }))).toBe(true);
    expect(evaluateCondition('cause == "mps-down"', ctx({ cause: null }))).toBe(false);
  });

  it('read result in until: conditions', () => {
    const result = { exit_code: 0, stdout: ' true\n', stderr: '' };
    expect(evaluateCondition('result.exit_code == 0 && result.stdout.matches("^\\\\s*true\\\\s*$")', ctx({ result }))).toBe(true);
    expect(evaluateCondition('result.exit_code == 0', ctx({ result: { exit_code: null, stdout: '', stderr: 'timeout' } }))).toBe(false);
  });
});

describe('fleet conditions over hosts(pattern)', () => {
  it('all / exists / exists_one', () => {
    expect(evaluateCondition("hosts('dc_1:&message_processors').all(h, h.facts.mp_up == false)", ctx())).toBe(true);
    expect(evaluateCondition("hosts('message_processors').exists(h, has(h.facts.mp_up) && h.facts.mp_up)", ctx())).toBe(true);
    expect(evaluateCondition("hosts('message_processors').exists_one(h, has(h.facts.mp_up) && h.facts.mp_up)", ctx())).toBe(true);
  });

  it('filter(...).size() counts, and compares with int literals', () => {
    expect(evaluateCondition("hosts('message_processors').filter(h, has(h.facts.mp_up) && !h.facts.mp_up).size() >= 2", ctx())).toBe(true);
    expect(evaluateCondition("hosts('message_processors').filter(h, h.status == 'ok').size() == 3", ctx())).toBe(true);
    expect(evaluateCondition("size(hosts('nobody')) == 0", ctx())).toBe(true);
    expect(evaluateExpression("hosts('message_processors').filter(h, h.status != 'ok').map(h, h.name)", ctx())).toEqual(['dc2-mp2']);
  });

  it('a fact missing on a host is an error that says how to guard it, not a silent false', () => {
    expect(() => evaluateCondition("hosts('message_processors').all(h, h.facts.load < 3)", ctx())).toThrow(ExpressionError);
    expect(() => evaluateCondition("hosts('message_processors').all(h, h.facts.load < 3)", ctx())).toThrow(/has\(/);
    expect(evaluateCondition("hosts('message_processors').all(h, !has(h.facts.load) || h.facts.load < 3)", ctx())).toBe(true);
    // CEL's logic absorbs the error when another element already decides the answer.
    expect(evaluateCondition("hosts('message_processors').all(h, h.facts.mp_up)", ctx())).toBe(false);
  });
});

describe('numbers: JS integers are CEL ints, other numbers doubles', () => {
  const mp = fleet[0] as HostView;
  it('compares across int and double', () => {
    expect(evaluateCondition('facts.threads > 39 && facts.load > 2 && facts.load < 3', ctx({ host: mp }))).toBe(true);
    expect(evaluateCondition('facts.threads == 40.0', ctx({ host: mp }))).toBe(true);
    expect(evaluateCondition('params.min_down == 2 && params.ratio < 1', ctx())).toBe(true);
  });

  it('does integer arithmetic on integer facts and returns JS numbers', () => {
    expect(evaluateExpression('facts.threads * 2 + 1', ctx({ host: mp }))).toBe(81);
    expect(evaluateExpression('[facts.threads, facts.load]', ctx({ host: mp }))).toEqual([40, 2.5]);
    expect(evaluateExpression('{"n": facts.threads}', ctx({ host: mp }))).toEqual({ n: 40 });
  });

  it('refuses to mix int and double in arithmetic without a conversion (CEL is strict)', () => {
    expect(() => evaluateExpression('facts.load + 1', ctx({ host: mp }))).toThrow(ExpressionError);
    expect(evaluateExpression('facts.load + double(1)', ctx({ host: mp }))).toBe(3.5);
  });
});

describe('evaluateCondition', () => {
  it('requires a bool and names the expression and the type it got', () => {
    expect(() => evaluateCondition('facts.threads', ctx({ host: fleet[0] as HostView }))).toThrow(
      'condition `facts.threads` must be a bool, got int on dc1-mp1',
    );
    expect(() => evaluateCondition('"yes"', ctx())).toThrow(/must be a bool, got string/);
    expect(() => evaluateCondition('[true]', ctx())).toThrow(/got list/);
  });
});

describe('sandbox: no way out to JavaScript', () => {
  const attempts = [
    'process.exit(1)',
    'constructor',
    'globalThis',
    'this',
    'facts.constructor',
    'facts.__proto__',
    'facts["constructor"]["constructor"]("return process")()',
    '"".constructor',
    'require("child_process")',
    'eval("1")',
    'hosts.constructor',
  ];
  for (const text of attempts) {
    it(`rejects ${text}`, () => {
      // A map field is valid CEL; reading it at run time finds no such key.
      if (!text.startsWith('facts.')) expect(checkExpression(text).ok).toBe(false);
      expect(() => evaluateExpression(text, ctx({ host: fleet[0] as HostView }))).toThrow(ExpressionError);
    });
  }

  it('property names of JS objects are just missing keys', () => {
    expect(evaluateCondition('has(facts.constructor) || has(facts.toString)', ctx({ host: fleet[0] as HostView }))).toBe(false);
  });
});

describe('checkExpression', () => {
  it('reports what an expression reads', () => {
    const r = checkExpression('cause == "x" && facts.a > params.n && hosts("dc_1").exists(h, h.facts.b) && vars["q"] == 1 && host.name != ""');
    expect(r).toEqual({
      ok: true,
      type: 'bool',
      refs: { facts: ['a', 'b'], patterns: ['dc_1'], usesCause: true, usesHost: true, usesResult: false, params: ['n'], vars: ['q'] },
    });
    const until = checkExpression('result.exit_code == 0');
    expect(until.ok && until.refs.usesResult && !until.refs.usesHost).toBe(true);
  });

  it('does not count macro variables as the host', () => {
    const r = checkExpression("hosts('routers').all(facts, facts.status == 'ok')");
    expect(r.ok && r.refs.usesHost).toBe(false);
  });

  it('gives the offset of a syntax error and of an unknown variable', () => {
    expect(checkExpression('facts.a == ')).toEqual({ ok: false, message: 'Unexpected token: EOF', offset: 11 });
    expect(checkExpression('facts.a && fact.b')).toEqual({ ok: false, message: 'Unknown variable: fact', offset: 11 });
  });

  it('catches type errors before anything runs', () => {
    const r = checkExpression('cause + 1');
    expect(r.ok).toBe(false);
    expect(checkExpression('hosts(1)').ok).toBe(false);
  });
});

describe('describeExpression', () => {
  const cases: [string, string][] = [
    ['cause == "mps-down" && !facts.mp_up', 'cause is "mps-down" and not facts.mp_up'],
    ["hosts('dc_1:&message_processors').all(h, h.facts.mp_up == false)", 'every host in dc_1:&message_processors: facts.mp_up is false'],
    ["hosts('message_processors').filter(h, !h.facts.mp_up).size() >= 2", 'at least 2 hosts in message_processors where not facts.mp_up'],
    ["hosts('routers').exists(r, r.facts.probe_status == 502)", 'some host in routers: facts.probe_status is 502'],
    ['(params.force || cause != "none") && has(facts.pid)', '(params.force or cause is not "none") and facts.pid is set'],
    ['!(a && b)', 'not (a and b)'],
  ];
  for (const [text, words] of cases) it(text, () => expect(describeExpression(text)).toBe(words));

  it('falls back to the text when it cannot parse', () => {
    expect(describeExpression('facts.a == ')).toBe('facts.a ==');
  });
});
