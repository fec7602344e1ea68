// Run-time rendering of runbook vars: a var that reads a fact (or cause, or run) is rendered
// fresh each time, with the host's current facts; a var that reads none reuses its plan-time
// value, which is the same text (and is what makes conditions cheap on large fleets).
import { describe, expect, it } from 'vitest';
import type { Host } from '../../src/inventory/types.js';
import { renderVars } from '../../src/plan/scope.js';

const host = { name: 'mp-1', groups: ['mps'], vars: { apigee_root: '/opt/apigee', port: 8082 } } as unknown as Host;

describe('runbook vars at run time', () => {
  it('a var over facts sees the facts of the moment', () => {
    const scope = { params: { n: 3 }, vars: { pid_file: '{{ apigee_root }}/var/run/mp.pid', seen: 'pid {{ facts.pid }} on {{ host.name }}' } };
    expect(renderVars(scope, host, undefined, { facts: { pid: 1 }, cause: null })).toEqual({ pid_file: '/opt/apigee/var/run/mp.pid', seen: 'pid 1 on mp-1' });
    expect(renderVars(scope, host, undefined, { facts: { pid: 2 }, cause: null }).seen).toBe('pid 2 on mp-1');
  });

  it('vars over inventory vars and params only render as at plan time, /var/run/ in a path included', () => {
    const scope = { params: { n: 3 }, vars: { pid_file: '{{ apigee_root }}/var/run/mp.pid', url: 'http://127.0.0.1:{{ port }}/{{ n }}' } };
    const first = renderVars(scope, host, undefined, { facts: { pid: 1 }, cause: 'x' });
    expect(first).toEqual({ pid_file: '/opt/apigee/var/run/mp.pid', url: 'http://127.0.0.1:8082/3' });
    expect(renderVars(scope, host, undefined, { facts: {}, cause: null })).toBe(first);
  });

  it('cause and run.id in a var keep it fresh', () => {
    const scope = { params: {}, vars: { backup: 'f.remedy-{{ run.id }}.bak', why: '{% if cause == "a" %}A{% else %}B{% endif %}' } };
    expect(renderVars(scope, host, undefined, { facts: {}, cause: 'a', run: { id: 'r1', dir: '' } })).toEqual({ backup: 'f.remedy-r1.bak', why: 'A' });
    expect(renderVars(scope, host, undefined, { facts: {}, cause: 'b', run: { id: 'r2', dir: '' } })).toEqual({ backup: 'f.remedy-r2.bak', why: 'B' });
  });
});
