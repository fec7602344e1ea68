// Ansible host patterns, parsed once into terms, exactly as ansible/inventory/manager.py splits them
// (split_host_pattern):
//   a,b          with a comma anywhere, the pattern is split on commas only
//   a:b  a:&b  a:!b  otherwise on ':' outside brackets, unless the whole pattern is one address
//                (fe80::1, 10.0.0.[1:3], host:22 are single terms, as parse_address reads them)
//   mp-*  web?   glob (fnmatch)          ~mp-\d  regex, matched from the start (Python re.match)
//   group[0]  group[-1]  group[0:2] (inclusive)  group[1:]   subscripts
// Empty elements are dropped, as Ansible drops them. Where Ansible would mangle a pattern beyond
// use, remedy says so instead: a bare `&`/`!`, `&!b`, unbalanced brackets, and a regex whose
// (...) or {...} holds a ':' stays one term (Ansible splits it and fails on the pieces).
import { UsageError } from '../errors.js';
import { isAnsibleAddress } from './address.js';

export type TermOp = 'union' | 'intersect' | 'exclude';

export interface PatternTerm {
  op: TermOp;
  /** The element as written, prefix included (Ansible first tries it as a plain host name). */
  text: string;
  /** The term without its `&`/`!` prefix and subscript. */
  expr: string;
  kind: 'regex' | 'glob' | 'name';
  /** Tests a group or host name: Python re.match for ~regex, fnmatch.translate otherwise. */
  matcher: RegExp;
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
  const elements = splitElements(pattern, fail);
  if (elements.length === 0) fail('it is empty');
  return elements.map((element) => parseElement(element, fail));
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

/** Ansible's split_host_pattern; the elements come back trimmed, empty ones dropped. */
export function splitElements(pattern: string, fail: (why: string) => never): string[] {
  const byComma = scan(pattern, (c) => c === ',', fail);
  if (byComma.length > 1) {
    return byComma.map((p) => p.trim()).filter((p) => p !== '');
  }
  const whole = pattern.trim();
  if (whole !== '' && isAnsibleAddress(whole)) return [whole];
  return scan(pattern, (c) => c === ':' || /\s/.test(c), fail).filter((p) => p !== '');
}

/**
 * Splits where `isSeparator` says, never inside a [...] group, nor inside (...) or {...} of a
 * ~regex (so `~(?:mp|rt)-\d{1,2}` stays one element). Ansible's fallback regex,
 * `(?:[^\s:\[\]]|\[[^\]]*\])+`, is the same for patterns without regex groups.
 */
function scan(pattern: string, isSeparator: (c: string) => boolean, fail: (why: string) => never): string[] {
  const elements: string[] = [];
  let current = '';
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i] as string;
    if (isSeparator(c)) {
      elements.push(current);
      current = '';
      i++;
      continue;
    }
    const isRegex = /^\s*[&!]?~/.test(current + c);
    const end = isRegex ? skipRegexGroup(pattern, i) : skipBrackets(pattern, i);
    if (end === -1) fail(`unbalanced '${c}'`);
    if (end === -2) fail(`'${c}' without a matching opening bracket`);
    current += pattern.slice(i, end);
    i = end;
  }
  elements.push(current);
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

/** One element (already split off a pattern) as one term. */
export function parseElement(element: string, fail: (why: string) => never): PatternTerm {
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
    return { op, text: element, expr, kind: 'regex', matcher: compileRegex(source, fail), subscript: undefined };
  }
  let subscript: PatternTerm['subscript'];
  const m = SUBSCRIPT.exec(expr);
  if (m) {
    const [, base = '', index, start, , end] = m;
    expr = base;
    // Python's `if end:` — an end of 0 means a single index, as does a missing one.
    subscript = index !== undefined ? [Number(index), undefined] : [Number(start), end === '' || end === undefined ? -1 : Number(end) || undefined];
  }
  const kind = GLOB_CHARS.test(expr) ? 'glob' : 'name';
  return { op, text: element, expr, kind, matcher: globToRegExp(expr), subscript };
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
  body = body
    .replace(/\(\?P<([A-Za-z_]\w*)>/g, '(?<$1>')
    .replace(/\(\?P=([A-Za-z_]\w*)\)/g, '\\k<$1>')
    .replace(/\\Z/g, '$')
    .replace(/\\A/g, '^');
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
