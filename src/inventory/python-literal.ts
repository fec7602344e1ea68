// INI inventory values, read as Ansible reads them: Python's ast.literal_eval, falling back to the
// raw text when the value is not a literal. So `2222` is a number, `True` a boolean, `'a b'` a
// string without quotes, while `true`, `dc_1`, `10.0.0.5` and `010` stay text (they are not
// Python literals). No code is ever evaluated: this is a small parser for literals only.
import type { VarValue } from './types.js';

class NotALiteral extends Error {}

/** The value `text` denotes as a Python literal, or `text` itself when it is not one. */
export function parsePythonLiteral(text: string): VarValue {
  try {
    const parser = new LiteralParser(text);
    const value = parser.parseAll();
    return value;
  } catch (err) {
    if (err instanceof NotALiteral) return text;
    throw err;
  }
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\n': '',
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

class LiteralParser {
  private pos = 0;
  private readonly src: string;

  constructor(src: string) {
    // literal_eval tolerates leading spaces and tabs.
    this.src = src.replace(/^[ \t]+/, '');
  }

  parseAll(): VarValue {
    const value = this.value();
    this.skipSpace();
    if (this.peek() === ',') return this.bareTuple(value);
    if (this.pos !== this.src.length) throw new NotALiteral();
    return value;
  }

  /** `1,2` and `'a',` are tuples without parentheses (Ansible: `v=1,2` is a list). */
  private bareTuple(first: VarValue): VarValue[] {
    const items = [first];
    while (this.peek() === ',') {
      this.pos++;
      this.skipSpace();
      if (this.pos === this.src.length) break;
      items.push(this.value());
      this.skipSpace();
    }
    if (this.pos !== this.src.length) throw new NotALiteral();
    return items;
  }

  private value(): VarValue {
    this.skipSpace();
    const c = this.peek();
    if (c === '[') return this.sequence('[', ']');
    if (c === '(') return this.parenthesized();
    if (c === '{') return this.braced();
    if (c === '-' || c === '+') {
      this.pos++;
      this.skipSpace();
      const n = this.number();
      return c === '-' ? -n : n;
    }
    if (this.src.startsWith('...', this.pos)) {
      this.pos += 3;
      return '...';
    }
    if (c !== undefined && /[0-9.]/.test(c)) return this.number();
    const str = this.strings();
    if (str !== undefined) return str;
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.src.slice(this.pos))?.[0];
    if (word === 'True' || word === 'False' || word === 'None') {
      this.pos += word.length;
      return word === 'True' ? true : word === 'False' ? false : null;
    }
    throw new NotALiteral();
  }

  private sequence(open: string, close: string): VarValue[] {
    this.expect(open);
    const items: VarValue[] = [];
    for (;;) {
      this.skipSpace();
      if (this.peek() === close) break;
      items.push(this.value());
      this.skipSpace();
      if (this.peek() === ',') this.pos++;
      else if (this.peek() !== close) throw new NotALiteral();
    }
    this.expect(close);
    return items;
  }

  /** `()` and `(1, 2)` are tuples (lists here); `(1)` is just 1. */
  private parenthesized(): VarValue {
    const start = this.pos;
    this.expect('(');
    this.skipSpace();
    if (this.peek() === ')') {
      this.pos++;
      return [];
    }
    const first = this.value();
    this.skipSpace();
    if (this.peek() === ')') {
      this.pos++;
      return first;
    }
    this.pos = start; // more than one item: read it again as a tuple
    return this.sequence('(', ')');
  }

  /** `{}` and `{k: v}` are dicts; `{1, 2}` is a set (a list here). */
  private braced(): VarValue {
    const start = this.pos;
    this.expect('{');
    this.skipSpace();
    if (this.peek() === '}') {
      this.pos++;
      return {};
    }
    this.value();
    this.skipSpace();
    const isDict = this.peek() === ':';
    this.pos = start;
    if (!isDict) return this.sequence('{', '}');
    this.expect('{');
    const out: Record<string, VarValue> = {};
    for (;;) {
      this.skipSpace();
      if (this.peek() === '}') break;
      const key = this.value();
      if (key !== null && typeof key === 'object') throw new NotALiteral();
      this.skipSpace();
      this.expect(':');
      out[pythonStr(key)] = this.value();
      this.skipSpace();
      if (this.peek() === ',') this.pos++;
      else if (this.peek() !== '}') throw new NotALiteral();
    }
    this.expect('}');
    return out;
  }

  private number(): number {
    const rest = this.src.slice(this.pos);
    const m =
      /^0[xX](?:_?[0-9a-fA-F])+|^0[oO](?:_?[0-7])+|^0[bB](?:_?[01])+/.exec(rest) ?? /^(?:\d(?:_?\d)*)?\.?(?:\d(?:_?\d)*)?(?:[eE][+-]?\d(?:_?\d)*)?/.exec(rest);
    const text = m?.[0] ?? '';
    if (text === '' || text === '.' || /^[eE]/.test(text)) throw new NotALiteral();
    const next = rest[text.length];
    // 1j is complex, 1L and 1abc are not literals at all.
    if (next !== undefined && /[A-Za-z0-9_]/.test(next)) throw new NotALiteral();
    this.pos += text.length;
    const clean = text.replace(/_/g, '');
    let value: number;
    if (/^0[xX]/.test(clean)) value = Number.parseInt(clean.slice(2), 16);
    else if (/^0[oO]/.test(clean)) value = Number.parseInt(clean.slice(2), 8);
    else if (/^0[bB]/.test(clean)) value = Number.parseInt(clean.slice(2), 2);
    else if (/^\d+$/.test(clean)) {
      // Python 3 forbids leading zeros on decimal integers (010 is a syntax error), except 0, 00...
      if (/^0+[1-9]/.test(clean)) throw new NotALiteral();
      value = Number.parseInt(clean, 10);
    } else value = Number.parseFloat(clean);
    // Beyond 2^53 a JS number would silently change the value; keep such text as text.
    if (!Number.isFinite(value) || (Number.isInteger(value) && !Number.isSafeInteger(value))) throw new NotALiteral();
    return value;
  }

  /** One string literal, or several adjacent ones ('a' 'b' is 'ab'); undefined if none here. */
  private strings(): string | undefined {
    let out: string | undefined;
    for (;;) {
      this.skipSpace();
      const m = /^([rRuUbB]|[bB][rR]|[rR][bB])?('''|"""|'|")/.exec(this.src.slice(this.pos));
      if (!m) return out;
      const raw = /r/i.test(m[1] ?? '');
      this.pos += m[0].length;
      out = (out ?? '') + this.stringBody(m[2] as string, raw);
    }
  }

  private stringBody(quote: string, raw: boolean): string {
    let out = '';
    for (;;) {
      if (this.pos >= this.src.length) throw new NotALiteral();
      if (this.src.startsWith(quote, this.pos)) {
        this.pos += quote.length;
        return out;
      }
      const c = this.src[this.pos] as string;
      if (c === '\n' && quote.length === 1) throw new NotALiteral();
      if (c !== '\\') {
        out += c;
        this.pos++;
        continue;
      }
      const e = this.src[this.pos + 1];
      if (e === undefined) throw new NotALiteral();
      if (raw) {
        out += c + e;
        this.pos += 2;
        continue;
      }
      this.pos += 2;
      if (e in SIMPLE_ESCAPES) out += SIMPLE_ESCAPES[e];
      else if (/[0-7]/.test(e)) {
        const oct = /^[0-7]{1,3}/.exec(this.src.slice(this.pos - 1))?.[0] ?? e;
        out += String.fromCodePoint(Number.parseInt(oct, 8));
        this.pos += oct.length - 1;
      } else if (e === 'x' || e === 'u' || e === 'U') {
        const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        const hex = this.src.slice(this.pos, this.pos + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) throw new NotALiteral();
        const cp = Number.parseInt(hex, 16);
        if (cp > 0x10ffff) throw new NotALiteral();
        out += String.fromCodePoint(cp);
        this.pos += len;
      } else if (e === 'N') {
        throw new NotALiteral(); // \N{NAME} needs the Unicode name table; keep the raw text
      } else out += `\\${e}`; // unknown escapes keep their backslash in Python
    }
  }

  private skipSpace(): void {
    for (;;) {
      const c = this.src[this.pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') this.pos++;
      else if (c === '#') {
        const nl = this.src.indexOf('\n', this.pos);
        this.pos = nl < 0 ? this.src.length : nl;
      } else return;
    }
  }

  private peek(): string | undefined {
    return this.src[this.pos];
  }

  private expect(c: string): void {
    if (this.src[this.pos] !== c) throw new NotALiteral();
    this.pos++;
  }
}

/** Dict keys as Python's str() would print them. */
function pythonStr(v: VarValue): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  return String(v);
}
