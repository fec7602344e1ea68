// Host entries as Ansible writes them, in YAML keys and INI lines alike: an optional `:port`
// suffix and `[a:b]` / `[a:b:step]` ranges (`mp-[1:4]`, `db-[01:10]`, `node-[a:c]`), expanded the
// way ansible.inventory.helpers' expand_hostname_range does.

export type HostEntry = { ok: true; names: string[]; port: number | undefined } | { ok: false; error: string };

const MAX_EXPANDED_HOSTS = 100_000;

export function parseHostEntry(entry: string): HostEntry {
  const text = entry.trim();
  if (text === '') return { ok: false, error: 'empty host name' };
  const split = splitPort(text);
  if (typeof split === 'string') return { ok: false, error: split };
  const [pattern, port] = split;
  if (pattern.trim() === '---') {
    return { ok: false, error: `invalid host '${text}': '---' is the start of a YAML document; is this file YAML?` };
  }
  try {
    const names = pattern.includes('[') || pattern.includes(']') ? expandHostRange(pattern) : [pattern];
    return { ok: true, names, port };
  } catch (err) {
    return { ok: false, error: `invalid host range '${text}': ${(err as Error).message}` };
  }
}

/** `host:2222`, `mp-[1:4]:2222`, `[fe80::1]:2222`; a bare IPv6 address has no port. */
function splitPort(text: string): [string, number | undefined] | string {
  const bracketed = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(text);
  if (bracketed?.[1]?.includes(':')) return [bracketed[1], bracketed[2] === undefined ? undefined : parsePort(bracketed[2])];
  const colons: number[] = [];
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === ':' && depth === 0) colons.push(i);
  }
  if (colons.length === 0) return [text, undefined];
  if (colons.length > 1) {
    // An IPv6 address without a port (fe80::1); Ansible reads it the same way.
    if (/^[0-9A-Fa-f:.]+$/.test(text)) return [text, undefined];
    return `invalid host '${text}': more than one ':'`;
  }
  const at = colons[0] as number;
  const port = text.slice(at + 1);
  if (port === '') return `invalid host '${text}': a trailing ':' must be followed by a port number`;
  if (!/^\d+$/.test(port)) return `invalid host '${text}': '${port}' is not a port number`;
  const n = parsePort(port);
  if (n < 1 || n > 65535) return `invalid host '${text}': port ${port} is out of range (1-65535)`;
  return [text.slice(0, at), n];
}

function parsePort(text: string): number {
  return Number.parseInt(text, 10);
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Expands the first `[..]` range, then recurses for the rest (db[01:03]-[a:b] gives six names). */
export function expandHostRange(pattern: string): string[] {
  const open = pattern.indexOf('[');
  const close = pattern.indexOf(']', open + 1);
  if (open < 0 || close < 0) throw new Error("unbalanced '[' ']'");
  const head = pattern.slice(0, open);
  const tail = pattern.slice(close + 1);
  const bounds = pattern.slice(open + 1, close).split(':');
  if (bounds.length !== 2 && bounds.length !== 3) throw new Error('a range is [begin:end] or [begin:end:step]');
  const [beginText = '', end = '', stepText = '1'] = bounds;
  const begin = beginText === '' ? '0' : beginText;
  if (end === '') throw new Error('the range has no end value');
  if (!/^[1-9]\d*$/.test(stepText)) throw new Error(`step '${stepText}' must be a positive integer`);
  const step = Number.parseInt(stepText, 10);

  let seq: string[];
  if (LETTERS.includes(begin) && begin.length === 1 && LETTERS.includes(end) && end.length === 1) {
    const from = LETTERS.indexOf(begin);
    const to = LETTERS.indexOf(end);
    if (from > to) throw new Error('the range must have begin <= end');
    seq = [];
    for (let i = from; i <= to; i += step) seq.push(LETTERS[i] as string);
  } else {
    if (!/^\d+$/.test(begin) || !/^\d+$/.test(end)) throw new Error(`'${begin}:${end}' is neither a numeric nor a letter range`);
    // A leading zero asks for zero-padding to that width; both ends must then have it.
    const width = begin.startsWith('0') && begin.length > 1 ? begin.length : 0;
    if (width && end.length !== width) throw new Error('zero-padded ranges need begin and end of equal length');
    const from = Number.parseInt(begin, 10);
    const to = Number.parseInt(end, 10);
    if (from > to) throw new Error('the range must have begin <= end');
    if ((to - from) / step > MAX_EXPANDED_HOSTS) throw new Error(`the range expands to more than ${MAX_EXPANDED_HOSTS} hosts`);
    seq = [];
    for (let i = from; i <= to; i += step) seq.push(width ? String(i).padStart(width, '0') : String(i));
  }
  const names: string[] = [];
  for (const part of seq) {
    const name = head + part + tail;
    if (name.includes('[')) names.push(...expandHostRange(name));
    else if (name.includes(']')) throw new Error("unbalanced '[' ']'");
    else names.push(name);
    if (names.length > MAX_EXPANDED_HOSTS) throw new Error(`the range expands to more than ${MAX_EXPANDED_HOSTS} hosts`);
  }
  return names;
}
