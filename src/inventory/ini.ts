// Reads Ansible INI inventories, following ansible/plugins/inventory/ini.py line for line:
// `[group]`, `[group:children]`, `[group:vars]`, hosts before any section are ungrouped, host
// lines are `name[:port] key=value ...` split like a shell, values are Python literals (see
// python-literal.ts), `#` and `;` start comment lines. A group named in `[x:children]` or
// `[x:vars]` must be declared by its own section somewhere in the file, as Ansible requires.
import { ValidationError } from '../errors.js';
import type { SourcePos } from '../errors.js';
import { InventoryBuilder } from './builder.js';
import type { RawInventory } from './builder.js';
import { parseHostEntry } from './host-range.js';
import { parsePythonLiteral } from './python-literal.js';
import { splitShellWords } from './shell-words.js';

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/;

/** `skip`: inside a section whose header was wrong; its lines were reported with the header. */
type State = 'hosts' | 'children' | 'vars' | 'skip';

interface Pending {
  state: 'children' | 'vars';
  at: SourcePos;
  /** For a child group: the sections that named it, in order. */
  parents: { group: string; at: SourcePos }[];
}

export function readIniInventory(src: string, file: string): RawInventory {
  const b = new InventoryBuilder(file);
  readIniInto(b, src, file);
  return b.finish();
}

/** Adds one INI source to an inventory being built (a directory inventory has several). */
export function readIniInto(b: InventoryBuilder, src: string, file: string): void {
  const pending = new Map<string, Pending>();
  let group = 'ungrouped';
  let state: State = 'hosts';

  const lines = src.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((rawLine, index) => {
    const lead = rawLine.length - rawLine.trimStart().length;
    const line = rawLine.trim();
    const at = (offset = 0): SourcePos => ({ file, line: index + 1, col: lead + offset + 1 });
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;

    const section = SECTION.exec(line);
    if (section) {
      const [, name = '', kind] = section;
      const next = kind ?? 'hosts';
      if (next !== 'hosts' && next !== 'children' && next !== 'vars') {
        b.error(at(name.length + 2), `section [${name}:${kind}] has unknown type '${kind}'; use [${name}], [${name}:children] or [${name}:vars]`);
        state = 'skip';
        return;
      }
      group = name;
      state = next;
      if (!b.hasGroup(name)) {
        // [g:vars] alone does not declare g; remember it until a [g] or [g:children] shows up.
        if (state === 'vars' && !pending.has(name)) pending.set(name, { state: 'vars', at: at(), parents: [] });
        b.addGroup(name);
      }
      const waiting = pending.get(name);
      if (waiting && state !== 'vars') {
        if (waiting.state === 'children') addPendingChildren(b, name, pending);
        else pending.delete(name);
      }
      return;
    }
    // Like Ansible, only a line that also ends with ']' is a (bad) header: `[a:c]-node ansible_user=x`
    // and `[fe80::1]:2222` are host lines.
    if (line.startsWith('[') && line.endsWith(']')) {
      b.error(at(), `invalid section header '${line}': expected [group], [group:children] or [group:vars], without spaces`);
      state = 'skip';
      return;
    }

    if (state === 'skip') return;
    if (state === 'hosts') readHostLine(b, group, line, at);
    else if (state === 'vars') readVarLine(b, group, line, at);
    else {
      const child = GROUP_NAME.exec(line)?.[1];
      if (child === undefined) {
        b.error(at(), `expected a group name in [${group}:children], got '${line}'`);
      } else if (b.hasGroup(child)) {
        b.addChild(group, child, at());
      } else {
        const waiting = pending.get(child);
        if (waiting) waiting.parents.push({ group, at: at() });
        else pending.set(child, { state: 'children', at: at(), parents: [{ group, at: at() }] });
      }
    }
  });

  for (const [name, decl] of pending) {
    if (decl.state === 'vars') {
      b.error(decl.at, `section [${name}:vars] is for group '${name}', which is not defined; add a [${name}] section`);
    } else {
      const parent = decl.parents[decl.parents.length - 1]?.group ?? '?';
      b.error(decl.at, `section [${parent}:children] includes undefined group '${name}'; add a [${name}] section`);
    }
  }
  if (b.failed) throw new ValidationError(b.diagnostics);
}

function addPendingChildren(b: InventoryBuilder, name: string, pending: Map<string, Pending>): void {
  const decl = pending.get(name);
  if (!decl) return;
  pending.delete(name);
  for (const parent of decl.parents) {
    b.addChild(parent.group, name, parent.at);
    if (pending.get(parent.group)?.state === 'children') addPendingChildren(b, parent.group, pending);
  }
}

function readHostLine(b: InventoryBuilder, group: string, line: string, at: (offset?: number) => SourcePos): void {
  const split = splitShellWords(line);
  if (!split.ok) {
    b.error(at(split.offset), `cannot read host line: ${split.error}`);
    return;
  }
  const [first, ...rest] = split.words;
  if (!first) return;
  const entry = parseHostEntry(first.text);
  if (!entry.ok) {
    b.error(at(first.offset), entry.error);
    return;
  }
  const vars: [string, ReturnType<typeof parsePythonLiteral>, SourcePos][] = [];
  for (const word of rest) {
    const eq = word.text.indexOf('=');
    if (eq <= 0) {
      b.error(at(word.offset), `expected key=value after the host name, got '${word.text}'`);
      return;
    }
    vars.push([word.text.slice(0, eq), parsePythonLiteral(word.text.slice(eq + 1)), at(word.offset)]);
  }
  for (const name of entry.names) {
    b.addHost(group, name, entry.port, at(first.offset));
    for (const [key, value, pos] of vars) b.setHostVar(name, key, value, pos);
  }
}

function readVarLine(b: InventoryBuilder, group: string, line: string, at: (offset?: number) => SourcePos): void {
  const eq = line.indexOf('=');
  const key = eq < 0 ? '' : line.slice(0, eq).trim();
  if (eq < 0 || key === '') {
    b.error(at(), `expected key=value in [${group}:vars], got '${line}'`);
    return;
  }
  b.setGroupVar(group, key, parsePythonLiteral(line.slice(eq + 1).trim()), at());
}
