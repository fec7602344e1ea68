// Jinja in inventory vars (`ansible_host: "{{ inventory_hostname }}.example.com"`), rendered with
// Ansible's semantics for the part of Jinja that a runbook's Liquid can also express: variable
// references (a.b, a['b'], a[0]), literals, `~` and `+`, and the filters default/d, lower, upper,
// capitalize, trim, replace, join, int, float, bool, string, length/count, first, last,
// mandatory. Anything else (lookup(), tests, `{% %}` blocks, other filters) is refused with an
// error naming the construct. A small parser and evaluator over data only: nothing is executed.

/** A value the template cannot give; `construct` names what remedy does not support, if that is why. */
export class JinjaError extends Error {
  readonly construct: string | undefined;
  constructor(message: string, construct?: string) {
    super(message);
    this.construct = construct;
  }
}

export const UNDEFINED: unique symbol = Symbol('undefined');
export type Value = unknown;

/** Where names come from: a host's vars (rendered on demand) plus Ansible's magic vars. */
export interface JinjaScope {
  lookup(name: string): Value | typeof UNDEFINED;
}

export function hasJinja(text: string): boolean {
  return text.includes('{{') || text.includes('{%') || text.includes('{#');
}

/**
 * Renders a template string as Ansible does without jinja2_native: text; but a template that is a
 * single `{{ expr }}` giving a list, mapping or boolean keeps that type.
 */
export function renderJinja(text: string, scope: JinjaScope): Value {
  const parts = splitTemplate(text);
  if (parts.length === 1 && typeof parts[0] !== 'string') {
    const v = evaluate(parseExpression((parts[0] as { expr: string }).expr), scope);
    return typeof v === 'boolean' || Array.isArray(v) || (v !== null && typeof v === 'object') ? v : pyStr(v);
  }
  let out = '';
  for (const part of parts) out += typeof part === 'string' ? part : pyStr(evaluate(parseExpression(part.expr), scope));
  return out;
}

type Part = string | { expr: string };

function splitTemplate(text: string): Part[] {
  const parts: Part[] = [];
  let i = 0;
  while (i < text.length) {
    const open = text.slice(i).search(/\{[{%#]/);
    if (open < 0) {
      parts.push(text.slice(i));
      break;
    }
    const at = i + open;
    if (at > i) parts.push(text.slice(i, at));
    const kind = text[at + 1];
    if (kind === '%') {
      const tag = /^\{%-?\s*(\w+)/.exec(text.slice(at))?.[1] ?? '';
      throw new JinjaError(`{% ${tag} %} blocks are not supported`, `{% ${tag} %}`);
    }
    const close = text.indexOf(kind === '#' ? '#}' : '}}', at + 2);
    if (close < 0) throw new JinjaError(`unclosed '{${kind}'`);
    if (kind === '{') parts.push({ expr: text.slice(at + 2, close).replace(/^-|-$/g, '') });
    i = close + 2;
  }
  return parts.filter((p) => p !== '');
}

// ---- expressions ---------------------------------------------------------------------------

type Node =
  | { t: 'lit'; v: Value }
  | { t: 'name'; name: string }
  | { t: 'get'; obj: Node; key: Node }
  | { t: 'list'; items: Node[] }
  | { t: 'bin'; op: '~' | '+' | '-'; a: Node; b: Node }
  | { t: 'filter'; arg: Node; name: string; args: Node[] };

type Tok = { k: 'num' | 'str' | 'id' | 'op'; v: string };

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^\d+(?:\.\d+)?/.exec(src.slice(i));
    if (num) {
      toks.push({ k: 'num', v: num[0] });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (id) {
      toks.push({ k: 'id', v: id[0] });
      i += id[0].length;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) {
          const e = src[j + 1] as string;
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          j += 2;
        } else s += src[j++];
      }
      if (j >= src.length) throw new JinjaError('unclosed string');
      toks.push({ k: 'str', v: s });
      i = j + 1;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (['==', '!=', '<=', '>=', '**', '//'].includes(two)) {
      toks.push({ k: 'op', v: two });
      i += 2;
      continue;
    }
    toks.push({ k: 'op', v: c });
    i++;
  }
  return toks;
}

const KEYWORDS_UNSUPPORTED = new Set(['if', 'else', 'is', 'in', 'not', 'and', 'or', 'for']);

function parseExpression(src: string): Node {
  const toks = tokenize(src);
  let p = 0;
  const peek = (): Tok | undefined => toks[p];
  const isOp = (v: string): boolean => peek()?.k === 'op' && peek()?.v === v;
  const expectOp = (v: string): void => {
    if (!isOp(v)) throw new JinjaError(`expected '${v}' in '${src.trim()}'`);
    p++;
  };
  const unsupported = (what: string, construct = what): never => {
    throw new JinjaError(`${what} is not supported`, construct);
  };

  const primary = (): Node => {
    const tok = toks[p++];
    if (!tok) throw new JinjaError(`unexpected end of '${src.trim()}'`);
    if (tok.k === 'num') return { t: 'lit', v: Number(tok.v) };
    if (tok.k === 'op' && tok.v === '-' && peek()?.k === 'num') return { t: 'lit', v: -Number(toks[p++]?.v) };
    if (tok.k === 'str') return { t: 'lit', v: tok.v };
    if (tok.k === 'op' && tok.v === '(') {
      const inner = concat();
      expectOp(')');
      return inner;
    }
    if (tok.k === 'op' && tok.v === '[') {
      const items: Node[] = [];
      while (!isOp(']')) {
        items.push(concat());
        if (!isOp(']')) expectOp(',');
      }
      p++;
      return { t: 'list', items };
    }
    if (tok.k === 'op' && tok.v === '{') return unsupported('a {…} mapping literal');
    if (tok.k === 'id') {
      if (tok.v === 'true' || tok.v === 'True') return { t: 'lit', v: true };
      if (tok.v === 'false' || tok.v === 'False') return { t: 'lit', v: false };
      if (tok.v === 'none' || tok.v === 'None') return { t: 'lit', v: null };
      if (KEYWORDS_UNSUPPORTED.has(tok.v)) return unsupported(`'${tok.v}'`);
      if (isOp('(')) return unsupported(`${tok.v}()`);
      return { t: 'name', name: tok.v };
    }
    throw new JinjaError(`unexpected '${tok.v}' in '${src.trim()}'`);
  };

  const postfix = (): Node => {
    let node = primary();
    for (;;) {
      if (isOp('.')) {
        p++;
        const tok = toks[p++];
        if (!tok || (tok.k !== 'id' && tok.k !== 'num')) throw new JinjaError(`expected a name after '.' in '${src.trim()}'`);
        if (isOp('(')) return unsupported(`the method .${tok.v}()`, `.${tok.v}()`);
        node = { t: 'get', obj: node, key: { t: 'lit', v: tok.k === 'num' ? Number(tok.v) : tok.v } };
      } else if (isOp('[')) {
        p++;
        const key = concat();
        if (isOp(':')) return unsupported('slicing [a:b]', '[a:b]');
        expectOp(']');
        node = { t: 'get', obj: node, key };
      } else if (isOp('(')) {
        return unsupported('calling a value');
      } else return node;
    }
  };

  const filtered = (): Node => {
    let node = postfix();
    while (isOp('|')) {
      p++;
      const tok = toks[p++];
      if (!tok || tok.k !== 'id') throw new JinjaError(`expected a filter name after '|' in '${src.trim()}'`);
      const args: Node[] = [];
      if (isOp('(')) {
        p++;
        while (!isOp(')')) {
          if (peek()?.k === 'id' && toks[p + 1]?.k === 'op' && toks[p + 1]?.v === '=') {
            return unsupported(`keyword arguments to ${tok.v}`, `${tok.v}(${peek()?.v}=…)`);
          }
          args.push(concat());
          if (!isOp(')')) expectOp(',');
        }
        p++;
      }
      if (!FILTERS.has(tok.v)) unsupported(`the filter '${tok.v}'`, `| ${tok.v}`);
      node = { t: 'filter', arg: node, name: tok.v, args };
    }
    return node;
  };

  const concat = (): Node => {
    let node = filtered();
    for (;;) {
      const op = peek();
      if (op?.k === 'op' && (op.v === '~' || op.v === '+' || op.v === '-')) {
        p++;
        node = { t: 'bin', op: op.v, a: node, b: filtered() };
      } else if (op?.k === 'op' && ['*', '/', '%', '**', '//', '==', '!=', '<', '>', '<=', '>='].includes(op.v)) {
        return unsupported(`the operator '${op.v}'`);
      } else if (op?.k === 'id' && KEYWORDS_UNSUPPORTED.has(op.v)) {
        return unsupported(op.v === 'is' ? 'Jinja tests (is …)' : `'${op.v}'`, op.v === 'is' ? 'is' : op.v);
      } else return node;
    }
  };

  if (toks.length === 0) throw new JinjaError('empty {{ }}');
  const node = concat();
  if (p < toks.length) {
    const tok = toks[p] as Tok;
    if (tok.k === 'id' && KEYWORDS_UNSUPPORTED.has(tok.v)) unsupported(tok.v === 'is' ? 'Jinja tests (is …)' : `'${tok.v}'`, tok.v);
    throw new JinjaError(`unexpected '${tok.v}' in '${src.trim()}'`);
  }
  return node;
}

// ---- evaluation ----------------------------------------------------------------------------

function evaluate(node: Node, scope: JinjaScope): Value {
  const v = evalNode(node, scope);
  if (v === UNDEFINED) throw new JinjaError(`'${describe(node)}' is undefined`);
  return v;
}

function evalNode(node: Node, scope: JinjaScope): Value {
  switch (node.t) {
    case 'lit':
      return node.v;
    case 'name':
      return scope.lookup(node.name);
    case 'list':
      return node.items.map((n) => evaluate(n, scope));
    case 'get': {
      const obj = evalNode(node.obj, scope);
      if (obj === UNDEFINED) return UNDEFINED;
      const key = evaluate(node.key, scope);
      if (Array.isArray(obj) && typeof key === 'number') {
        const v = obj[key < 0 ? obj.length + key : key];
        return v === undefined ? UNDEFINED : v;
      }
      if (obj !== null && typeof obj === 'object' && typeof key !== 'object') {
        const record = obj as Record<string, Value>;
        return Object.prototype.hasOwnProperty.call(record, String(key)) ? record[String(key)] : UNDEFINED;
      }
      return UNDEFINED;
    }
    case 'bin': {
      const a = evaluate(node.a, scope);
      const b = evaluate(node.b, scope);
      if (node.op === '~') return pyStr(a) + pyStr(b);
      if (typeof a === 'number' && typeof b === 'number') return node.op === '+' ? a + b : a - b;
      if (node.op === '+' && typeof a === 'string' && typeof b === 'string') return a + b;
      if (node.op === '+' && Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
      throw new JinjaError(`cannot ${node.op === '+' ? 'add' : 'subtract'} ${typeName(b)} ${node.op === '+' ? 'to' : 'from'} ${typeName(a)}`);
    }
    case 'filter':
      return applyFilter(node, scope);
  }
}

const FILTERS = new Set([
  'default',
  'd',
  'lower',
  'upper',
  'capitalize',
  'trim',
  'replace',
  'join',
  'int',
  'float',
  'bool',
  'string',
  'length',
  'count',
  'first',
  'last',
  'mandatory',
]);

function applyFilter(node: Extract<Node, { t: 'filter' }>, scope: JinjaScope): Value {
  const value = evalNode(node.arg, scope);
  const args = node.args.map((a) => evaluate(a, scope));
  if (node.name === 'default' || node.name === 'd') {
    const fallback = args[0] ?? '';
    if (value === UNDEFINED) return fallback;
    return args[1] === true && !truthy(value) ? fallback : value;
  }
  if (value === UNDEFINED) {
    if (node.name === 'mandatory') throw new JinjaError(`mandatory variable '${describe(node.arg)}' not defined`);
    throw new JinjaError(`'${describe(node.arg)}' is undefined`);
  }
  switch (node.name) {
    case 'mandatory':
      return value;
    case 'lower':
      return pyStr(value).toLowerCase();
    case 'upper':
      return pyStr(value).toUpperCase();
    case 'capitalize': {
      const s = pyStr(value);
      return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
    }
    case 'trim':
      return pyStr(value).trim();
    case 'string':
      return pyStr(value);
    case 'replace': {
      const [from, to] = args;
      return pyStr(value).split(pyStr(from)).join(pyStr(to));
    }
    case 'join': {
      const sep = args[0] === undefined ? '' : pyStr(args[0]);
      const items = Array.isArray(value)
        ? value
        : typeof value === 'string'
          ? [...value]
          : value !== null && typeof value === 'object'
            ? Object.keys(value)
            : [value];
      return items.map(pyStr).join(sep);
    }
    case 'int':
      return toInt(value, args[0] ?? 0);
    case 'float': {
      const n = typeof value === 'boolean' ? Number(value) : Number.parseFloat(pyStr(value));
      return Number.isNaN(n) ? (args[0] ?? 0) : n;
    }
    case 'bool':
      return toBool(value);
    case 'length':
    case 'count':
      if (Array.isArray(value) || typeof value === 'string') return value.length;
      if (value !== null && typeof value === 'object') return Object.keys(value).length;
      throw new JinjaError(`${typeName(value)} has no length`);
    case 'first':
    case 'last': {
      const seq = Array.isArray(value) ? value : typeof value === 'string' ? [...value] : undefined;
      if (!seq) throw new JinjaError(`${typeName(value)} has no ${node.name} item`);
      const v = node.name === 'first' ? seq[0] : seq[seq.length - 1];
      return v === undefined ? UNDEFINED : v;
    }
    default:
      throw new JinjaError(`the filter '${node.name}' is not supported`, `| ${node.name}`);
  }
}

/** Jinja's int filter: int(x), else int(float(x)), else the default. */
function toInt(value: Value, fallback: Value): Value {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return Math.trunc(value);
  const s = pyStr(value).trim().replace(/_/g, '');
  if (/^[-+]?\d+$/.test(s)) return Number.parseInt(s, 10);
  const f = Number(s);
  return s !== '' && Number.isFinite(f) ? Math.trunc(f) : fallback;
}

/** Ansible's bool filter: yes/on/1/true (any case) and 1 are true, everything else false. */
function toBool(value: Value): boolean {
  if (typeof value === 'boolean') return value;
  if (value === null) return false;
  return ['yes', 'on', '1', 'true'].includes(pyStr(value).toLowerCase());
}

function truthy(v: Value): boolean {
  if (Array.isArray(v) || typeof v === 'string') return v.length > 0;
  if (v !== null && typeof v === 'object') return Object.keys(v).length > 0;
  return Boolean(v);
}

/** Python's str(): True/False/None, lists and dicts as their repr. */
export function pyStr(v: Value): string {
  if (typeof v === 'string') return v;
  return pyRepr(v);
}

function pyRepr(v: Value): string {
  if (v === null || v === undefined || v === UNDEFINED) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : String(v);
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  return String(v);
}

function typeName(v: Value): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `a ${typeof v}`;
}

function describe(node: Node): string {
  switch (node.t) {
    case 'name':
      return node.name;
    case 'get':
      return `${describe(node.obj)}${node.key.t === 'lit' && typeof node.key.v === 'string' && /^\w+$/.test(node.key.v) ? `.${node.key.v}` : `[${node.key.t === 'lit' ? pyRepr(node.key.v) : '…'}]`}`;
    case 'filter':
      return describe(node.arg);
    default:
      return 'value';
  }
}
