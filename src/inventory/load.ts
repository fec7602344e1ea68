// The one entry point: an inventory file (YAML or INI, as Ansible reads them) or a directory of
// them, plus the group_vars/ and host_vars/ next to it, resolved into the Inventory model.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { UsageError } from '../errors.js';
import { InventoryBuilder } from './builder.js';
import { readIniInto, readIniInventory } from './ini.js';
import { resolveInventory } from './resolve.js';
import type { Inventory } from './types.js';
import { noDirectoryVars, readDirectoryVars } from './vars-dirs.js';
import { readYamlInto, readYamlInventory } from './yaml.js';

export type InventoryFormat = 'yaml' | 'ini';

export interface LoadInventoryOptions {
  /**
   * Accepted for callers that pass it, but not read here: ssh_config is merged by the transport,
   * which knows (from Connection.explicit) what the inventory left unset.
   */
  sshConfig?: string | false | undefined;
}

export interface ParseInventoryOptions {
  /** Default: from the file name, else sniffed from the text. */
  format?: InventoryFormat | undefined;
  /** Directory holding group_vars/ and host_vars/; false (the default here) reads none. */
  varsDir?: string | false | undefined;
}

/**
 * An inventory file, or a directory of them (Ansible's directory inventory: every file in it, in
 * name order, into one inventory; group_vars/ and host_vars/ beside the file, or inside the
 * directory).
 */
export function loadInventory(path: string, _options: LoadInventoryOptions = {}): Inventory {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `inventory not found: ${path}` : `cannot read inventory ${path}: ${(err as Error).message}`);
  }
  if (!isDir) return parseInventory(readSource(path), path, { varsDir: dirname(path) });
  const files = directorySources(path);
  if (files.length === 0) throw new UsageError(`inventory directory ${path} holds no inventory file`);
  const b = new InventoryBuilder(path);
  for (const file of files) {
    const text = readSource(file);
    if (detectInventoryFormat(file, text) === 'yaml') readYamlInto(b, text, file);
    else readIniInto(b, text, file);
  }
  const raw = b.finish();
  return resolveInventory(raw, readDirectoryVars(path, raw));
}

/**
 * What Ansible reads from an inventory directory: its entries sorted by name, recursively,
 * skipping hidden ones, group_vars/, host_vars/, vars_plugins/ and the extensions Ansible ignores
 * by default (INVENTORY_IGNORE_EXTS: .ini, .cfg, .md, .txt, backups …).
 */
export function directorySources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (IGNORED_IN_DIRECTORY.test(entry)) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...directorySources(path));
    else out.push(path);
  }
  return out;
}

const IGNORED_IN_DIRECTORY = /^\.|^host_vars$|^group_vars$|^vars_plugins$|(?:\.pyc|\.pyo|\.swp|\.bak|~|\.rpm|\.md|\.txt|\.rst|\.orig|\.ini|\.cfg|\.retry)$/;

function readSource(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `inventory not found: ${file}` : `cannot read inventory ${file}: ${(err as Error).message}`);
  }
}

/** Parses inventory text already in memory (tests, editors); `file` names it in messages. */
export function parseInventory(text: string, file: string, options: ParseInventoryOptions = {}): Inventory {
  const format = options.format ?? detectInventoryFormat(file, text);
  const raw = format === 'yaml' ? readYamlInventory(text, file) : readIniInventory(text, file);
  const dirs = options.varsDir ? readDirectoryVars(options.varsDir, raw) : noDirectoryVars();
  return resolveInventory(raw, dirs);
}

/**
 * .yaml/.yml/.json are YAML (as Ansible's yaml plugin decides); anything else is sniffed: YAML
 * opens with `---`, `{`, or a `key:` line, which an INI host line can never be (a trailing `:`
 * is an error there, and `host:2222` has no space after the colon).
 */
export function detectInventoryFormat(file: string, text: string): InventoryFormat {
  const ext = extname(file).toLowerCase();
  if (ext === '.yaml' || ext === '.yml' || ext === '.json') return 'yaml';
  for (const rawLine of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('---') || line.startsWith('{')) return 'yaml';
    if (line.startsWith('[')) return 'ini';
    return /^[^\s=#;[]+:(\s|$)/.test(line) ? 'yaml' : 'ini';
  }
  return 'ini';
}
