// The one entry point: an inventory file (YAML or INI, as Ansible reads them) plus the
// group_vars/ and host_vars/ next to it, resolved into the Inventory model.
import { readFileSync, statSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import { UsageError } from '../errors.js';
import { readIniInventory } from './ini.js';
import { resolveInventory } from './resolve.js';
import type { Inventory } from './types.js';
import { noDirectoryVars, readDirectoryVars } from './vars-dirs.js';
import { readYamlInventory } from './yaml.js';

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

export function loadInventory(file: string, _options: LoadInventoryOptions = {}): Inventory {
  let text: string;
  try {
    if (statSync(file).isDirectory()) {
      throw new UsageError(`inventory ${file} is a directory; name the inventory file inside it (e.g. ${file}/hosts.yaml)`);
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `inventory not found: ${file}` : `cannot read inventory ${file}: ${(err as Error).message}`);
  }
  return parseInventory(text, file, { varsDir: dirname(file) });
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
