// Inventory vars that hold passwords. Ansible prints them (ansible-inventory --list); remedy treats
// every value of them as a secret: masked in plans, journal, console, reports and result files.
import type { Host, Vars } from './types.js';

/** Ansible's password vars (connection and become, with their aliases). */
export const SECRET_VARS: ReadonlySet<string> = new Set([
  'ansible_password',
  'ansible_ssh_pass',
  'ansible_ssh_password',
  'ansible_become_password',
  'ansible_become_pass',
  'ansible_sudo_pass',
  'ansible_sudo_password',
  'ansible_ssh_private_key_passphrase',
]);

/** The host's vars with password values masked (for showing an inventory). */
export function maskSecretVars(vars: Vars): Vars {
  const out: Vars = {};
  for (const [k, v] of Object.entries(vars)) out[k] = SECRET_VARS.has(k) && v !== null && v !== '' ? '********' : v;
  return out;
}

/**
 * Every password a host's vars hold: each secret var as written and as resolved (a templated
 * `ansible_password: "{{ vault_pw }}"` resolves to the vault var's value).
 */
export function hostSecrets(host: Host): string[] {
  const out = new Set<string>();
  for (const key of SECRET_VARS) {
    const v = host.vars[key];
    if (v !== undefined && v !== null && typeof v !== 'object' && String(v) !== '') out.add(String(v));
  }
  if (host.connection.password) out.add(host.connection.password);
  if (host.become.password) out.add(host.become.password);
  return [...out];
}
