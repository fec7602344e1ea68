// Commands rendered for a host: one that reads no run-time value is rendered once and the same
// text serves the plan and every run; one that reads facts, the cause, run or steps — in an
// output, in a tag, or through a var of its level — is rendered afresh with the values of the moment.
import { describe, expect, it } from 'vitest';
import type { Host } from '../../src/inventory/types.js';
import { renderHostCommand, type HostRuntime } from '../../src/plan/render-host.js';
import type { PlanStep } from '../../src/plan/types.js';

const host = {
  name: 'mp-1',
  groups: ['mps'],
  vars: { apigee_root: '/opt/apigee' },
  become: { always: false, method: 'sudo', user: 'root' },
} as unknown as Host;

function stepWith(vars: Record<string, unknown> = {}): PlanStep {
  return { id: 's', become: null, scope: { params: { port: 8082 }, vars } } as unknown as PlanStep;
}
const at = (facts: Record<string, unknown>, cause: string | null = null): HostRuntime => ({ facts, cause, run: { id: 'r1', dir: '/runs/r1' } });

describe('commands for a host, plan time and run time', () => {
  it('a command over inventory vars and params is rendered once: the plan and each run get the same text', () => {
    const step = stepWith();
    const template = 'ls {{ apigee_root }}/conf && curl -s http://127.0.0.1:{{ port }}/';
    const planned = renderHostCommand(null, step, host, template, null);
    expect(planned.command).toBe('ls /opt/apigee/conf && curl -s http://127.0.0.1:8082/');
    expect(renderHostCommand(null, step, host, template, at({ pid: 1 }))).toBe(planned);
    expect(renderHostCommand(null, step, host, template, at({ pid: 2 }, 'x'))).toBe(planned);
  });

  it('facts in an output, a tag or a var, and the cause or run.id, render with the values of the moment', () => {
    const cases: [Record<string, unknown>, string, [HostRuntime, string][]][] = [
      [
        {},
        'kill {{ facts.pid }}',
        [
          [at({ pid: 41 }), 'kill 41'],
          [at({ pid: 42 }), 'kill 42'],
        ],
      ],
      [
        {},
        '{% if facts.up %}echo up{% else %}echo down{% endif %}',
        [
          [at({ up: true }), 'echo up'],
          [at({ up: false }), 'echo down'],
        ],
      ],
      [
        { pid_file: '/tmp/{{ facts.pid }}.pid' },
        'cat {{ pid_file }}',
        [
          [at({ pid: 7 }), 'cat /tmp/7.pid'],
          [at({ pid: 8 }), 'cat /tmp/8.pid'],
        ],
      ],
      [
        {},
        'echo {{ cause }}',
        [
          [at({}, 'mps-down'), 'echo mps-down'],
          [at({}, 'none'), 'echo none'],
        ],
      ],
      [{}, 'cp f f.remedy-{{ run.id }}.bak', [[{ facts: {}, cause: null, run: { id: 'r2', dir: '' } }, 'cp f f.remedy-r2.bak']]],
    ];
    for (const [vars, template, runs] of cases) {
      const step = stepWith(vars);
      renderHostCommand(null, step, host, template, null); // planned first, as in a run
      for (const [runtime, want] of runs) expect(renderHostCommand(null, step, host, template, runtime).command, template).toBe(want);
    }
  });

  it('plan-time markers never reach a run: the same step and template render with the facts once they are known', () => {
    const step = stepWith();
    expect(renderHostCommand(null, step, host, 'kill {{ facts.pid }}', null).command).toBe("kill '⟨facts.pid⟩'");
    expect(renderHostCommand(null, step, host, 'kill {{ facts.pid }}', at({ pid: 9 })).command).toBe('kill 9');
  });
});
