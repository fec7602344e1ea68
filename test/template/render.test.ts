import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderCommand, renderText, templateReferences, analyzeTemplate, TemplateError } from '../../src/template/index.js';

const work = mkdtempSync(path.join(tmpdir(), 'remedy-template-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const SHELLS = ['/bin/sh', '/bin/dash', '/bin/bash'] as const;

function hostileValues(canary: string): string[] {
  return [
    `x'; touch ${canary}; '`,
    `$(touch ${canary})`,
    `\`touch ${canary}\``,
    `a\ntouch ${canary}\n`,
    `'"; touch ${canary} #`,
    `\\'; touch ${canary}; echo \\`,
    `$(printf '%s' x)'$(touch ${canary})'`,
    `*; touch ${canary} &`,
    `--help; touch ${canary} | cat`,
  ];
}

describe('renderCommand quotes every value (POSIX single quotes)', () => {
  it('finds the shells it proves quoting with', () => {
    for (const sh of SHELLS) expect(existsSync(sh), `${sh} is needed to prove quoting`).toBe(true);
  });

  for (const sh of SHELLS) {
    it(`no hostile value runs as code under ${sh}, and each arrives as one unchanged argument`, () => {
      const canary = path.join(work, `pwned-${path.basename(sh)}`);
      for (const value of hostileValues(canary)) {
        const command = renderCommand(`printf '%s\\n' {{ value }} {{ params.value }}`, { value, params: { value } });
        const out = execFileSync(sh, ['-c', command], { encoding: 'utf8' });
        expect(existsSync(canary), `${sh} ran: ${command}`).toBe(false);
        expect(out).toBe(`${value}\n${value}\n`);
      }
    });
  }

  it('a list renders as one quoted word per element (argv)', () => {
    const canary = path.join(work, 'pwned-list');
    const files = ['a b', `; touch ${canary}`, "it's"];
    const command = renderCommand(`printf '[%s]' {{ files }}`, { files });
    expect(command).toBe(`printf '[%s]' 'a b' '; touch ${canary}' 'it'\\''s'`);
    expect(execFileSync('/bin/dash', ['-c', command], { encoding: 'utf8' })).toBe(`[a b][; touch ${canary}][it's]`);
    expect(existsSync(canary)).toBe(false);
  });

  it('safe words stay readable; empty and null values are an empty argument', () => {
    expect(renderCommand('ls {{ dir }} {{ n }} {{ flag }}', { dir: '/opt/apigee', n: 3, flag: true })).toBe('ls /opt/apigee 3 true');
    expect(renderCommand('echo {{ a }}{{ b }}', { a: '', b: null })).toBe("echo ''''");
  });

  it('maps render as one quoted JSON word', () => {
    expect(renderCommand('echo {{ m }}', { m: { k: "v'" } })).toBe(`echo '{"k":"v'\\''"}'`);
  });

  it('quotes the output of filters too, unless the last filter is raw', () => {
    expect(renderCommand('echo {{ a | upcase }}', { a: "x'y" })).toBe(`echo 'X'\\''Y'`);
    expect(renderCommand('echo {{ l | join: "," }}', { l: ['a', 'b c'] })).toBe("echo 'a,b c'");
    expect(renderCommand('echo {{ a | default: "fallback value" }}', {})).toBe("echo 'fallback value'");
    expect(renderCommand('echo {% for x in l %}{{ x }} {% endfor %}', { l: ['a b', 'c'] })).toBe("echo 'a b' c ");
    expect(renderCommand('echo {% echo a %}', { a: 'a b' })).toBe("echo 'a b'");
  });

  it('raw opts out, visibly: the value is pasted as shell code', () => {
    const canary = path.join(work, 'pwned-raw');
    const command = renderCommand('echo {{ a | raw }}', { a: `hi; touch ${canary}` });
    expect(command).toBe(`echo hi; touch ${canary}`);
    execFileSync('/bin/sh', ['-c', command]);
    expect(existsSync(canary)).toBe(true);
    // raw only counts as the last filter: anything after it quotes again.
    expect(renderCommand('echo {{ a | raw | upcase }}', { a: 'a b' })).toBe("echo 'A B'");
  });

  it('quote quotes explicitly, once, in commands and in text', () => {
    expect(renderCommand('echo {{ a | quote }}', { a: 'a b' })).toBe("echo 'a b'");
    expect(renderText('run: echo {{ a | quote }}', { a: "it's" })).toBe(`run: echo 'it'\\''s'`);
  });

  it('seconds turns a duration into whole seconds', () => {
    expect(renderCommand('curl -m {{ t | seconds }}', { t: '1m30s' })).toBe('curl -m 90');
    expect(renderCommand('{{ t | seconds }}', { t: '1500ms' })).toBe('1');
    expect(renderCommand('{{ t | seconds }}', { t: 45 })).toBe('45');
    expect(() => renderCommand('{{ t | seconds }}', { t: 'soon' })).toThrow(/not a duration/);
  });
});

describe('renderText', () => {
  it('does not quote', () => {
    expect(renderText('{{ root }}/bin/{{ name }}', { root: '/opt/apigee', name: "it's" })).toBe("/opt/apigee/bin/it's");
    expect(renderText('hosts: {{ l }}', { l: ['a', 'b'] })).toBe('hosts: a b');
  });
});

describe('unknown variables and bad templates', () => {
  it('an unknown top-level variable is an error naming it, with its offset', () => {
    const err = (() => {
      try {
        renderCommand('echo {{ nope }}', { other: 1 });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as TemplateError).message).toBe('undefined variable: nope');
    expect((err as TemplateError).offset).toBe(8);
  });

  it('an unknown nested key names the path, in the fast path and in LiquidJS alike', () => {
    expect(() => renderCommand('echo {{ facts.pid }}', { facts: {} })).toThrow('undefined variable: facts.pid');
    expect(() => renderCommand('echo {{ facts.pid | upcase }}', { facts: {} })).toThrow('undefined variable: facts.pid');
  });

  it('does not read inherited properties', () => {
    expect(() => renderCommand('{{ a.constructor }}', { a: {} })).toThrow(TemplateError);
    expect(() => renderCommand('{{ a.constructor | upcase }}', { a: {} })).toThrow(TemplateError);
  });

  it('syntax errors, unknown filters and file tags are TemplateErrors with an offset', () => {
    for (const t of ['echo {{ a', 'echo {{ a | shout }}', '{% include "/etc/passwd" %}', '{% render "x" %}', '{% if %}']) {
      let caught: unknown;
      try {
        renderCommand(t, { a: 1 });
      } catch (e) {
        caught = e;
      }
      expect(caught, t).toBeInstanceOf(TemplateError);
      expect(typeof (caught as TemplateError).offset, t).toBe('number');
    }
  });
});

describe('deferred values (facts and cause at plan time)', () => {
  const deferred = new Set(['facts', 'cause', 'run']);

  it('render as quoted ⟨path⟩ markers', () => {
    expect(renderCommand('kill -3 {{ facts.mp_pid }} # {{ cause }} {{ params.n }}', { params: { n: 2 } }, { deferred })).toBe(
      "kill -3 '⟨facts.mp_pid⟩' # '⟨cause⟩' 2",
    );
    expect(renderCommand('cp a a.{{ run.id }}.bak', {}, { deferred })).toBe("cp a a.'⟨run.id⟩'.bak");
    expect(renderText('{{ facts.dump_dir }}/heap.hprof', {}, { deferred })).toBe('⟨facts.dump_dir⟩/heap.hprof');
  });

  it('go through filters and LiquidJS tags too', () => {
    expect(renderCommand('{{ facts.x | default: 1 }}', {}, { deferred })).toBe("'⟨facts.x⟩'");
    expect(renderCommand('{{ facts.t | seconds }}', {}, { deferred })).toBe("'⟨facts.t⟩'");
    expect(renderCommand('{% if true %}{{ facts.a.b }}{% endif %}', {}, { deferred })).toBe("'⟨facts.a.b⟩'");
  });

  it('only affect the roots named', () => {
    expect(() => renderCommand('{{ facts.x }}', {}, { deferred: new Set(['cause']) })).toThrow('undefined variable: facts');
  });
});

describe('templateReferences', () => {
  it('lists variable paths and raw use', () => {
    const refs = templateReferences('{{ apigee_root }}/x {{ facts.mp_pid }} {% for h in list %}{{ h }} {{ params.x | raw }}{% endfor %} {{ vars["a"] }}');
    expect(refs.variables).toEqual(['apigee_root', 'facts.mp_pid', 'list', 'params.x', 'vars.a']);
    expect(refs.usesRaw).toBe(true);
    expect(templateReferences('echo {{ a }}').usesRaw).toBe(false);
  });

  it('gives offsets for positioned diagnostics', () => {
    const a = analyzeTemplate('echo ok\n  kill {{ facts.pid }}');
    expect(a.references).toEqual([{ path: 'facts.pid', segments: ['facts', 'pid'], offset: 18 }]);
  });
});

// The rendering speed is a benchmark figure (bench/plan.mjs), not a timed test.
describe('fast path', () => {
  it('the fast path and LiquidJS print the same bytes', () => {
    const scope = { a: "it's", l: ['x y', 'z'], n: 1.5, m: { k: 1 }, z: null, params: { p: '$(id)' } };
    for (const t of ['{{ a }}', '{{ l }}', '{{ n }}', '{{ m }}', '{{ z }}', '{{ params.p }}', 'x {{a}} y {{ params.p }}']) {
      // A tag around the template forces the LiquidJS path without changing any value.
      const viaLiquid = `{% if true %}${t}{% endif %}`;
      expect(renderCommand(t, scope), t).toBe(renderCommand(viaLiquid, scope));
      expect(renderText(t, scope), t).toBe(renderText(viaLiquid, scope));
    }
  });
});
