// remedy inventory: the inventory as remedy reads it, in ansible-inventory's formats, so users can
// debug an inventory with the output they know and compare it with Ansible's.
import type { Command } from 'commander';
import { UsageError, formatDiagnostic } from '../../errors.js';
import { inventoryGraph, inventoryHostVars, inventoryList, limitHosts, loadInventory, pythonJson, selectHosts } from '../../inventory/index.js';
import type { Inventory } from '../../inventory/index.js';
import { maskSecretVars } from '../../inventory/secrets.js';
import { action } from '../exit.js';

interface InventoryOptions {
  inventory: string;
  list?: boolean;
  graph?: string | boolean;
  host?: string;
  listHosts?: string;
  limit?: string;
}

export function register(program: Command): void {
  program
    .command('inventory')
    .description(
      "Show an inventory as remedy reads it, in the formats of ansible-inventory: --list (JSON with _meta.hostvars), --graph, --host, or the hosts a pattern selects (--list-hosts), one per line in Ansible's order.",
    )
    .option('-i, --inventory <path>', 'inventory file, or a directory of inventory files (default: inventory/example.yaml)', 'inventory/example.yaml')
    .option('--list', "every group (direct hosts and children) and every host's merged vars, as ansible-inventory --list")
    .option('--graph [group]', 'the group tree from GROUP (default all), as ansible-inventory --graph')
    .option('--host <host>', "one host's merged vars as JSON, as ansible-inventory --host")
    .option('--list-hosts <pattern>', 'the hosts PATTERN selects, one per line, in the order a run (and serial batches) takes them')
    .option('-l, --limit <pattern>', 'with --list-hosts: keep only the hosts this pattern also selects (as --limit of run)')
    .addHelpText(
      'after',
      "\nExamples:\n  remedy inventory -i inventory/example.yaml --graph\n  remedy inventory -i hosts.ini --list-hosts 'webservers:!web1'\n  remedy inventory -i inventories/prod/ --host mp-1\n",
    )
    .action(
      action(async (opts: InventoryOptions) => {
        const chosen = [opts.list, opts.graph, opts.host, opts.listHosts].filter((o) => o !== undefined && o !== false).length;
        if (chosen !== 1) throw new UsageError('choose one of --list, --graph, --host or --list-hosts');
        if (opts.limit !== undefined && opts.listHosts === undefined) throw new UsageError('--limit goes with --list-hosts');
        const inv = loadInventory(opts.inventory);
        const out = show(inv, opts);
        for (const w of inv.warnings ?? []) process.stderr.write(`${formatDiagnostic(w)}\n`);
        process.stdout.write(out);
        return 0;
      }),
    );
}

/** Passwords stay off the console (ansible-inventory prints them; remedy redacts them everywhere). */
const redacted = maskSecretVars;

function show(inv: Inventory, opts: InventoryOptions): string {
  if (opts.list) {
    const list = inventoryList(inv);
    for (const [host, vars] of Object.entries(list._meta.hostvars)) list._meta.hostvars[host] = redacted(vars);
    return `${pythonJson(list)}\n`;
  }
  if (opts.graph !== undefined && opts.graph !== false) return inventoryGraph(inv, opts.graph === true ? 'all' : opts.graph);
  if (opts.host !== undefined) return `${pythonJson(redacted(inventoryHostVars(inv, opts.host)))}\n`;
  const pattern = opts.listHosts as string;
  const hosts = limitHosts(inv, selectHosts(inv, pattern), opts.limit);
  if (hosts.length === 0) process.stderr.write(`warning: no hosts matched '${pattern}'${opts.limit ? ` with --limit '${opts.limit}'` : ''}\n`);
  return hosts.map((h) => `${h}\n`).join('');
}
