// group_vars/ and host_vars/ next to the inventory file, found as Ansible's host_group_vars plugin
// finds them: for each group or host NAME, the first of NAME, NAME.yml, NAME.yaml, NAME.json that
// exists; when it is a directory, every file in it (recursively, sorted by name, later files win).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { isMap, isScalar } from 'yaml';
import { ValidationError } from '../errors.js';
import type { Diagnostic } from '../errors.js';
import { emptyLayer } from './builder.js';
import type { RawInventory, VarLayer } from './builder.js';
import { diagnosticAt, mapEntries, nodePosition, nodeValue, parseAnsibleYaml } from './yaml-source.js';

const EXTENSIONS = ['', '.yml', '.yaml', '.json'];

export interface DirectoryVars {
  groups: Map<string, VarLayer>;
  hosts: Map<string, VarLayer>;
  warnings: Diagnostic[];
}

export function noDirectoryVars(): DirectoryVars {
  return { groups: new Map(), hosts: new Map(), warnings: [] };
}

/** Reads `<baseDir>/group_vars` and `<baseDir>/host_vars` for the groups and hosts of `raw`. */
export function readDirectoryVars(baseDir: string, raw: RawInventory): DirectoryVars {
  const out = noDirectoryVars();
  const errors: Diagnostic[] = [];
  const sections = [
    { dir: join(baseDir, 'group_vars'), names: [...raw.groups.keys()], into: out.groups, what: 'group' },
    { dir: join(baseDir, 'host_vars'), names: [...raw.hosts.keys()], into: out.hosts, what: 'host' },
  ];
  for (const { dir, names, into, what } of sections) {
    if (!isDirectory(dir)) continue;
    for (const name of names) {
      const files = findVarsFiles(dir, name);
      if (files.length === 0) continue;
      const layer = emptyLayer();
      for (const file of files) readVarsFile(file, layer, errors, out.warnings);
      into.set(name, layer);
    }
    // A file named after nothing in the inventory is almost always a typo or a stale file.
    const known = new Set(names);
    for (const entry of safeReaddir(dir)) {
      if (entry.startsWith('.') || entry.endsWith('~')) continue;
      const ext = extname(entry);
      const stem = EXTENSIONS.includes(ext) ? basename(entry, ext) : entry;
      if (!known.has(stem) && !known.has(entry)) {
        out.warnings.push({
          file: join(dir, entry),
          line: 1,
          col: 1,
          message: `no ${what} named '${stem}' in the inventory; these vars are not used`,
          severity: 'warning',
        });
      }
    }
  }
  if (errors.length > 0) throw new ValidationError([...errors, ...out.warnings]);
  return out;
}

function findVarsFiles(dir: string, name: string): string[] {
  for (const ext of EXTENSIONS) {
    const path = join(dir, name + ext);
    if (!existsSync(path)) continue;
    return isDirectory(path) ? filesUnder(path) : [path];
  }
  return [];
}

function filesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const entry of safeReaddir(dir).sort()) {
    if (entry.startsWith('.') || entry.endsWith('~')) continue;
    const path = join(dir, entry);
    const ext = extname(entry);
    if (isDirectory(path)) {
      if (!ext) found.push(...filesUnder(path));
    } else if (EXTENSIONS.includes(ext)) {
      found.push(path);
    }
  }
  return found;
}

function readVarsFile(file: string, layer: VarLayer, errors: Diagnostic[], warnings: Diagnostic[]): void {
  const { source, diagnostics } = parseAnsibleYaml(readFileSync(file, 'utf8'), file);
  for (const d of diagnostics) (d.severity === 'error' ? errors : warnings).push(d);
  if (diagnostics.some((d) => d.severity === 'error')) return;
  const contents = source.doc.contents;
  if (contents === null || (isScalar(contents) && contents.value === null)) return; // empty file: no vars
  if (!isMap(contents)) {
    errors.push(diagnosticAt(source, contents.range?.[0] ?? 0, 'a vars file must be a mapping of variable names to values'));
    return;
  }
  for (const entry of mapEntries(source, contents)) {
    layer.vars[entry.key] = nodeValue(source, entry.value);
    layer.origins.set(entry.key, nodePosition(source, entry.keyNode));
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
