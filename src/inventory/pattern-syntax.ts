// Ansible host patterns, parsed once into terms (see ansible/inventory/manager.py):
//   a:b  a,b   union         a:&b   intersection        a:!b   exclusion
//   mp-*  web?  glob (fnmatch) ~mp-\d  regex, matched from the start like Python's re.match
//   group[0]  group[-1]  group[0:2] (inclusive, as in Ansible)  group[1:]   subscripts
// Separators are `,` and `:` outside brackets (and, in a regex, outside parentheses and braces, so
// `~(?:mp|rt)-\d{1,2}` stays one term); whitespace around them is ignored.
import { UsageError } from '../errors.js';

export type TermOp = 'union' | 'intersect' | 'exclude';

export interface PatternTerm {
  op: TermOp;
  /** The term without its `&`/`!` prefix and subscript. */
  expr: string;
  kind: 'regex' | 'glob' | 'name';
  /** Tests a group or host name (absent for plain names, which compare equal). */
  matcher: RegExp | undefined;
  /** [start, end]: end undefined for a single index, -1 for "to the end" (`[1:]`). */
  subscript: [number, number | undefined] | undefined;
}

/** Ansible's PATTERN_WITH_SUBSCRIPT. */
const SUBSCRIPT = /^(.+)\[(?:(-?\d+)|(\d+)([:-])(\d*))\]$/s;
const GLOB_CHARS = /[*?[]/;

/** Parses a pattern, or throws UsageError naming it and what is wrong. */
export function parseHostPattern(pattern: string): PatternTerm[] {
  const fail = (why: string): never => {
    throw new UsageError(`invalid host pattern '${pattern}': ${why}`);
  };
  if (pattern.trim() === '') fail('it is empty');
  return splitElements(pattern, fail).map((element) => parseTerm(element, fail));
}

/** The error message for a bad pattern, or null when it is valid. For the runbook validator. */
export function validatePattern(pattern: string): string | null {
  try {
    parseHostPattern(pattern);
    return null;
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
}

/** Splits on top-level `,` `:` and whitespace; rejects empty elements and unbalanced brackets. */
export function splitElements(pattern: string, fail: (why: string) => never): string[] {
  const elements: string[] = [];
  let current = '';
  /** A `,`/`:` was seen and no element since: another one now would leave an empty element. */
  let afterSeparator = false;
  const flush = (): void => {
    if (current === '') return;
    elements.push(current);
    current = '';
    afterSeparator = false;
  };
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i] as string;
    if (c === ',' || c === ':') {
      if (current === '') {
        if (elements.length === 0) fail('it starts with a separator');
        if (afterSeparator) fail('it has an empty element between separators');
      }
      flush();
      afterSeparator = true;
      i++;
      continue;
    }
    if (/\s/.test(c)) {
      // Whitespace separates like ':' does in Ansible, but never makes an empty element.
      flush();
      i++;
      continue;
    }
    const isRegex = /^[&!]?~/.test(current + c);
    const end = isRegex ? skipRegexGroup(pattern, i) : skipBrackets(pattern, i);
    if (end === -1) fail(`unbalanced '${c}'`);
    if (end === -2) fail(`'${c}' without a matching opening bracket`);
    current += pattern.slice(i, end);
    i = end;
  }
  if (current === '' && afterSeparator) fail('it ends with a separator');
  flush();
  return elements;
}

/** From i, the end of a `[...]` (or just the one character); -1 unclosed, -2 stray closer. */
function skipBrackets(s: string, i: number): number {
  const c = s[i];
  if (c === ']') return -2;
  if (c !== '[') return i + 1;
  const close = s.indexOf(']', i + 1);
  if (close < 0) return -1;
  if (s.slice(i + 1, close).includes('[')) return -1;
  return close + 1;
}

/** In a regex: an escape, a character class, or a balanced (...) / {...} group is one unit. */
function skipRegexGroup(s: string, i: number): number {
  const c = s[i];
  if (c === '\\') return Math.min(i + 2, s.length);
  if (c === ')' || c === '}' || c === ']') return -2;
  if (c === '[') {
    let j = i + 1;
    if (s[j] === '^') j++;
    if (s[j] === ']') j++;
    for (; j < s.length; j++) {
      if (s[j] === '\\') j++;
      else if (s[j] === ']') return j + 1;
    }
    return -1;
  }
  if (c !== '(' && c !== '{') return i + 1;
  const closer = c === '(' ? ')' : '}';
  let j = i + 1;
  while (j < s.length && s[j] !== closer) {
    const next = skipRegexGroup(s, j);
    if (next < 0) return next;
    j = next;
  }
  return j < s.length ? j + 1 : -1;
}

function parseTerm(element: string, fail: (why: string) => never): PatternTerm {
  let op: TermOp = 'union';
  let expr = element;
  if (expr.startsWith('&')) op = 'intersect';
  else if (expr.startsWith('!')) op = 'exclude';
  if (op !== 'union') expr = expr.slice(1);
  if (expr === '') fail(`'${element}' needs a group or host name after it`);
  if (expr.startsWith('&') || expr.startsWith('!')) fail(`'${element}' combines '&' and '!'; write a:&b or a:!b`);

  if (expr.startsWith('~')) {
    const source = expr.slice(1);
    if (source === '') fail(`'~' needs a regular expression after it`);
    return { op, expr, kind: 'regex', matcher: compileRegex(source, fail), subscript: undefined };
  }
  let subscript: PatternTerm['subscript'];
  const m = SUBSCRIPT.exec(expr);
  if (m) {
    const [, base = '', index, start, , end] = m;
    expr = base;
    subscript = index !== undefined ? [Number(index), undefined] : [Number(start), end === '' || end === undefined ? -1 : Number(end)];
  }
  if (expr.includes(']') && !expr.includes('[')) fail(`']' without a matching '['`);
  if (!GLOB_CHARS.test(expr)) return { op, expr, kind: 'name', matcher: undefined, subscript };
  return { op, expr, kind: 'glob', matcher: globToRegExp(expr), subscript };
}

/** Python regex syntax that JavaScript spells differently, then anchored at the start only. */
function compileRegex(source: string, fail: (why: string) => never): RegExp {
  let flags = '';
  let body = source;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(body);
  if (inline) {
    for (const f of inline[1] as string) {
      if (f === 'i' || f === 'm' || f === 's') flags += flags.includes(f) ? '' : f;
      else if (f !== 'u' && f !== 'a') fail(`the regex flag (?${f}) is not supported`);
    }
    body = body.slice(inline[0].length);
  }
  body = body.replace(/\(\?P<([A-Za-z_]\w*)>/g, '(?<$1>').replace(/\(\?P=([A-Za-z_]\w*)\)/g, '\\k<$1>').replace(/\\Z/g, '$').replace(/\\A/g, '^');
  try {
    return new RegExp(`^(?:${body})`, flags);
  } catch (err) {
    return fail(`bad regular expression '${source}': ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
}

/** Python's fnmatch.translate: *, ?, [seq], [!seq]; the whole name must match. */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') {
      if (!out.endsWith('.*')) out += '.*';
    } else if (c === '?') out += '.';
    else if (c === '[') {
      let j = i + 1;
      if (glob[j] === '!') j++;
      if (glob[j] === ']') j++;
      while (j < glob.length && glob[j] !== ']') j++;
      if (j >= glob.length) {
        out += '\\[';
        continue;
      }
      let set = glob.slice(i + 1, j).replace(/\\/g, '\\\\');
      if (set.startsWith('!')) set = `^${set.slice(1)}`;
      else if (set.startsWith('^')) set = `\\${set}`;
      out += `[${set.replace(/\[/g, '\\[').replace(/^(\^?)\]/, '$1\\]')}]`;
      i = j;
    } else out += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^(?:${out})$`, 's');
}
