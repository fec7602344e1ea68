// Ansible's implicit localhost: `localhost`, `127.0.0.1` or `::1` asked for by a pattern when the
// inventory has no such host. It connects locally, sees the vars of `all` (and host_vars/ of
// its name), is in no group and matches no other pattern (not even `all`). Like Ansible there
// is only one: a host of the inventory named localhost, 127.0.0.1 or ::1 stands for all three,
// and otherwise the implicit one keeps the name it was first asked by.
import { hostAccess } from './connection.js';
import { registerHost } from './host-templates.js';
import type { Host, Inventory } from './types.js';

/** Ansible's C.LOCALHOST: names that give the implicit localhost when nothing else matches. */
export const LOCALHOST_NAMES: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '::1']);

export function implicitLocalhost(inv: Inventory, name: string): Host {
  for (const host of inv.hosts.values()) if (host.implicit === true || LOCALHOST_NAMES.has(host.name)) return host;
  const vars = { ...(inv.implicitVars?.all ?? {}), ...(inv.implicitVars?.hosts[name] ?? {}), ansible_connection: 'local' };
  const access = hostAccess(name, vars);
  const host: Host = {
    name,
    groups: [],
    vars,
    connection: { ...access.connection, type: 'local', address: '127.0.0.1' },
    become: access.become,
    implicit: true,
  };
  inv.hosts.set(name, host);
  registerHost(inv, host);
  inv.warnings ??= [];
  inv.warnings.push({
    file: inv.source,
    line: 1,
    col: 1,
    message: `${name} is not in the inventory: using the implicit localhost (a local connection; it does not match 'all')`,
    severity: 'warning',
  });
  return host;
}
