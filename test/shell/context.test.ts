// Values placed in every shell context a command template can give them, run by real shells
// (dash, as /bin/sh on Debian, and bash): each arrives byte for byte and nothing in it runs.
// Contexts no escaping can make safe are refused, at render time and by validate.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { commandContextProblems, renderCommand, TemplateError } from '../../src/template/index.js';

const HOSTILE = [
  '$(touch /tmp/remedy-pwned)',
  '`id -un`',
  '"; id; "',
  "'; id; '",
  '\\',
  'a\\"b',
  '${HOME}',
  '$((1+1))',
  'two\nlines',
  'it\'s "quoted" \\ and $ and `',
  '!event',
  ' leading and trailing ',
  '*',
  '',
];

function run(shell: string, command: string): string {
  const r = spawnSync(shell, ['-c', command], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent' } });
  expect(r.stderr, `${shell}: ${command}`).toBe('');
  return r.stdout;
}

const CONTEXTS: { name: string; template: string; expected: (v: string) => string }[] = [
  { name: 'outside quotes', template: "printf '%s|' {{ v }}", expected: (v) => `${v}|` },
  { name: 'inside "…"', template: 'printf \'%s|\' "value: {{ v }}."', expected: (v) => `value: ${v}.|` },
  { name: "inside '…'", template: "printf '%s|' 'value: {{ v }}.'", expected: (v) => `value: ${v}.|` },
  { name: 'in "$(…)" inside "…"', template: 'printf \'%s|\' "$(printf %s {{ v }})"', expected: (v) => `${v}|` },
  { name: 'an unquoted here-document', template: 'cat <<EOF\nvalue: {{ v }}.\nEOF', expected: (v) => `value: ${v}.\n` },
  { name: 'a quoted here-document', template: "cat <<'EOF'\nvalue: {{ v }}.\nEOF", expected: (v) => `value: ${v}.\n` },
  { name: 'a <<- here-document', template: 'cat <<-EOF\n\tvalue: {{ v }}.\n\tEOF', expected: (v) => `value: ${v}.\n` },
  // Here-documents whose body comes after the end of the command that opens them (a pipeline,
  // an && list) or inside a closed construct: the parse is walked past all of these.
  { name: 'a here-document opened in a pipeline', template: 'cat <<EOF | cat\nvalue: {{ v }}.\nEOF', expected: (v) => `value: ${v}.\n` },
  { name: 'a here-document opened after &&', template: 'true && cat <<EOF\nvalue: {{ v }}.\nEOF', expected: (v) => `value: ${v}.\n` },
  { name: 'a here-document inside if … fi', template: 'if true; then cat <<EOF\nvalue: {{ v }}.\nEOF\nfi', expected: (v) => `value: ${v}.\n` },
  { name: 'a here-document inside "$(…)"', template: 'printf \'%s|\' "$(cat <<EOF\nvalue: {{ v }}.\nEOF\n)"', expected: (v) => `value: ${v}.|` },
  { name: 'through | quote in "…"', template: 'printf \'%s|\' "{{ v | quote }}"', expected: (v) => `${v}|` },
  { name: 'in a {% if %} inside "…"', template: 'printf \'%s|\' {% if v %}"{{ v }}"{% else %}""{% endif %}', expected: (v) => `${v}|` },
];

describe('values are escaped for the shell context they land in', () => {
  for (const shell of ['dash', 'bash']) {
    for (const c of CONTEXTS) {
      it(`${c.name} (${shell})`, () => {
        for (const v of HOSTILE) {
          const command = renderCommand(c.template, { v });
          expect(run(shell, command), `${JSON.stringify(v)} → ${command}`).toBe(c.expected(v));
        }
      });
    }
  }

  it('a list is one word per element outside quotes, one string inside them', () => {
    const v = ['a b', "c'd", '$(id)'];
    expect(run('dash', renderCommand("printf '%s|' {{ v }}", { v }))).toBe("a b|c'd|$(id)|");
    expect(run('dash', renderCommand('printf \'%s|\' "{{ v }}"', { v }))).toBe("a b c'd $(id)|");
  });

  it('a value in a comment stays in the comment, and one with a line break is refused', () => {
    expect(run('dash', renderCommand('echo ok # {{ v }}', { v: '$(id)' }))).toBe('ok\n');
    expect(run('dash', renderCommand('true && echo ok | cat # {{ v }}', { v: '$(id)' }))).toBe('ok\n');
    expect(() => renderCommand('echo ok # {{ v }}', { v: 'x\nid' })).toThrow(/line break cannot be placed in a comment/);
  });

  it('a value holding the here-document delimiter line is refused', () => {
    expect(() => renderCommand('cat <<EOF\n{{ v }}\nEOF', { v: 'x\nEOF\nid' })).toThrow(TemplateError);
    expect(() => renderCommand("cat <<'END'\n{{ v }}\nEND", { v: 'x\nEND' })).toThrow(/would end the here-document/);
    expect(() => renderCommand('cat <<-EOF\n{{ v }}\nEOF', { v: 'x\n\t\tEOF' })).toThrow(/would end the here-document/);
    // The word alone on a line, not part of one, ends it.
    expect(run('dash', renderCommand('cat <<EOF\n{{ v }}\nEOF', { v: 'x\nEOF2' }))).toBe('x\nEOF2\n');
  });

  const REFUSED: [string, RegExp][] = [
    ['echo `echo {{ v }}`', /backquotes/],
    ['echo $(( {{ v }} + 1 ))', /arithmetic/],
    ['echo ${x:-{{ v }}}', /\$\{…\}/],
    ['echo "${x:-{{ v }}}"', /\$\{…\}/],
    ["echo $'{{ v }}'", /\$'…'/],
    ['{{ v }}=1 env', /variable name/],
  ];
  for (const [template, why] of REFUSED) {
    it(`refuses ${template} at render time and in validate`, () => {
      expect(() => renderCommand(template, { v: 'x' })).toThrow(why);
      const problems = commandContextProblems(template);
      expect(problems).toHaveLength(1);
      expect(problems[0]?.message).toMatch(why);
      expect(problems[0]?.offset).toBe(template.indexOf('{{'));
    });
  }

  it('validate accepts every safe context', () => {
    for (const c of CONTEXTS) expect(commandContextProblems(c.template), c.template).toEqual([]);
  });
});
