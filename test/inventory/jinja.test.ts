// Jinja in inventory vars, rendered with Ansible's semantics for what Liquid can also express, and
// Ansible's magic vars; what remedy does not render fails only where it is used, naming host, var
// and construct.
import { describe, expect, test } from 'vitest';
import { JinjaError, magicVars, parseInventory, renderJinja, renderedHostVars } from '../../src/inventory/index.js';
import { UNDEFINED } from '../../src/inventory/jinja.js';

const scope = (vars: Record<string, unknown>) => ({ lookup: (n: string) => (n in vars ? vars[n] : UNDEFINED) });
const render = (text: string, vars: Record<string, unknown> = {}) => renderJinja(text, scope(vars));

describe('renderJinja', () => {
  test('references, attributes, indexes and concatenation', () => {
    expect(render('{{ a }}.example.com', { a: 'mp-1' })).toBe('mp-1.example.com');
    expect(render("{{ m.k }}-{{ m['k'] }}-{{ l[0] }}-{{ l[-1] }}", { m: { k: 'v' }, l: [1, 2] })).toBe('v-v-1-2');
    expect(render("{{ a ~ '-' ~ b }}", { a: 'x', b: 3 })).toBe('x-3');
    expect(render('{{ a + 1 }}', { a: 2 })).toBe('3');
  });

  test('Ansible output types: one {{ }} keeps lists, mappings and booleans; numbers become text', () => {
    expect(render('{{ l }}', { l: ['a', 'b'] })).toEqual(['a', 'b']);
    expect(render('{{ flag }}', { flag: true })).toBe(true);
    expect(render('{{ port }}', { port: 8080 })).toBe('8080');
    expect(render('x{{ l }}', { l: ['a', 1, true, null] })).toBe("x['a', 1, True, None]");
  });

  test('filters: default, lower/upper, join, int, bool, replace and friends', () => {
    expect(render("{{ missing | default('d') }}")).toBe('d');
    expect(render("{{ empty | default('d', true) }}", { empty: '' })).toBe('d');
    expect(render("{{ empty | d('d') }}", { empty: '' })).toBe('');
    expect(render('{{ s | lower }} {{ s | upper }} {{ s | capitalize }}', { s: 'mIxEd' })).toBe('mixed MIXED Mixed');
    expect(render("{{ l | join(',') }}", { l: ['a', 'b', 3] })).toBe('a,b,3');
    expect(render('{{ s | int + 1 }}', { s: '41' })).toBe('42');
    expect(render("{{ 'x' | int }} {{ '2.7' | int }} {{ 'x' | int(7) }}")).toBe('0 2 7');
    expect(render("{{ 'yes' | bool }}")).toBe(true);
    expect(render("{{ 'nope' | bool }}")).toBe(false);
    expect(render("{{ s | replace('-', '_') | trim }}", { s: ' a-b-c ' })).toBe('a_b_c');
    expect(render('{{ l | length }} {{ l | first }} {{ l | last }}', { l: ['a', 'b'] })).toBe('2 a b');
  });

  test('undefined names are errors, as in Ansible', () => {
    expect(() => render('{{ nope }}')).toThrow("'nope' is undefined");
    expect(() => render('{{ m.k }}', { m: {} })).toThrow("'m.k' is undefined");
  });

  test.each([
    ["{{ lookup('env', 'USER') }}", 'lookup()'],
    ['{{ x is defined }}', 'is'],
    ["{{ 'a' if x else 'b' }}", 'if'],
    ['{% if x %}a{% endif %}', '{% if %}'],
    ["{{ x | regex_replace('a', 'b') }}", '| regex_replace'],
    ['{{ x * 2 }}', "the operator '*'"],
  ])('%s is refused, naming %s', (text, construct) => {
    try {
      render(text, { x: 'a' });
      throw new Error('rendered');
    } catch (err) {
      expect(err).toBeInstanceOf(JinjaError);
      expect((err as JinjaError).construct).toBe(construct);
    }
  });
});

describe('inventory vars and magic vars', () => {
  const inv = parseInventory(
    `
all:
  vars:
    domain: example.com
    user: "{{ lookup('env', 'USER') }}"
  children:
    web:
      hosts:
        web-1.dc1:
          fqdn: "{{ inventory_hostname_short }}.{{ domain }}"
          role: "{{ group_names | join(',') | upper }}"
          port: "{{ http_port | default(80) }}"
          loop_a: "{{ loop_b }}"
          loop_b: "{{ loop_a }}"
    db:
      hosts:
        db-1:
`,
    'jinja.yaml',
  );
  const web = inv.hosts.get('web-1.dc1')!;

  test('--list shows the vars as written (like ansible-inventory); templates render for runbooks', () => {
    expect(web.vars.fqdn).toBe('{{ inventory_hostname_short }}.{{ domain }}');
    const { values } = renderedHostVars(web);
    expect(values).toMatchObject({ fqdn: 'web-1.example.com', role: 'WEB', port: '80', domain: 'example.com' });
    // params (-e) are visible to inventory templates and win, like Ansible's extra vars
    expect(renderedHostVars(web, { http_port: 8080 }).values.port).toBe('8080');
  });

  test('a var remedy cannot render is reported with host, var and construct, and only it', () => {
    const { values, failures } = renderedHostVars(web);
    expect(values).not.toHaveProperty('user');
    expect(failures.get('user')).toBe(
      `host web-1.dc1: inventory var user = "{{ lookup('env', 'USER') }}" cannot be rendered (lookup()): lookup() is not supported`,
    );
    expect(failures.get('loop_a')).toMatch(/recursive loop detected/);
  });

  test('magic vars mean what they mean in Ansible', () => {
    const magic = magicVars(web);
    expect(magic.inventory_hostname).toBe('web-1.dc1');
    expect(magic.inventory_hostname_short).toBe('web-1');
    expect(magic.group_names).toEqual(['web']);
    expect(magic.groups).toMatchObject({ all: ['web-1.dc1', 'db-1'], web: ['web-1.dc1'], db: ['db-1'], ungrouped: [] });
    const hostvars = magic.hostvars as Record<string, Record<string, unknown>>;
    expect(hostvars['web-1.dc1']?.fqdn).toBe('web-1.example.com');
    expect(hostvars['db-1']?.inventory_hostname).toBe('db-1');
  });
});
