// The Ansible YAML inventory format, as remedy reads it, declared once in zod. It validates YAML
// inventories (each problem mapped back to file:line:col) and `remedy schema inventory` derives
// schema/inventory.schema.json from it for editors.
import * as z from 'zod';
import type { VarValue } from './types.js';

/** Any YAML value a var can hold. */
export const InventoryVarValue: z.ZodType<VarValue> = z
  .json()
  .meta({ description: 'Any value: string, number, boolean, null, list or mapping. Available to runbook templates.' });

const PORT_RANGE = 'a port number is 1-65535';
const PortNumber = z.union([z.int().min(1, PORT_RANGE).max(65535, PORT_RANGE), z.string()]);
const AnsibleBoolean = z.union([z.boolean(), z.string(), z.int(), z.null()]);
const Text = z.union([z.string(), z.number()]);

/** The ansible_* (and remedy_*) vars remedy acts on. Every other var is kept for templates. */
const connectionVars = {
  ansible_host: Text.optional().meta({
    description: 'Address to connect to (IP or DNS name). Default: the inventory name, then ssh_config HostName.',
    examples: ['10.10.1.21'],
  }),
  ansible_port: PortNumber.optional().meta({ description: 'SSH port. Default 22 (or ssh_config Port).' }),
  ansible_user: Text.optional().meta({ description: 'SSH login user. Default: ssh_config User, else the local user.' }),
  ansible_connection: z
    .string()
    .optional()
    .meta({
      description: 'How to reach the host: ssh (default; smart and paramiko mean ssh too) or local (run on this machine).',
      examples: ['ssh', 'local'],
    }),
  ansible_ssh_private_key_file: z.string().optional().meta({ description: 'Private key file for SSH authentication.' }),
  ansible_private_key_file: z.string().optional().meta({ description: 'Alias of ansible_ssh_private_key_file.' }),
  ansible_password: Text.optional().meta({
    description:
      'SSH password, tried after keys and the agent (password, then keyboard-interactive authentication); secret (masked in plans, journal, console, reports).',
  }),
  ansible_ssh_pass: Text.optional().meta({ description: 'Alias of ansible_password.' }),
  ansible_ssh_password: Text.optional().meta({ description: 'Alias of ansible_password.' }),
  ansible_ssh_common_args: z.string().optional().meta({
    description:
      'Extra OpenSSH arguments. remedy honours the jump host in them (-J HOST, -o ProxyJump=HOST, or -o ProxyCommand="ssh -W %h:%p HOST") and the keepalive (-o ServerAliveInterval=SECONDS, -o ServerAliveCountMax=N; default 15 s x 3); other options are ignored with a warning.',
  }),
  ansible_ssh_extra_args: z.string().optional().meta({ description: 'Like ansible_ssh_common_args (read the same way).' }),
  ansible_become: AnsibleBoolean.optional().meta({
    description: 'Become (escalate privileges) for every step, not only steps that ask with `become:`. yes/no/true/false.',
  }),
  ansible_become_method: z
    .string()
    .optional()
    .meta({
      description: 'sudo (default), runuser or none. Other Ansible methods (su, doas, pbrun, ...) are rejected.',
      examples: ['sudo', 'runuser', 'none'],
    }),
  ansible_become_user: Text.optional().meta({ description: 'User to become when a step says `become: true`. Default root.' }),
  ansible_become_password: Text.optional().meta({ description: 'Password for sudo; secret (redacted everywhere).' }),
  ansible_become_pass: Text.optional().meta({ description: 'Alias of ansible_become_password.' }),
  remedy_known_hosts: z.string().optional().meta({ description: 'An extra known_hosts file trusted for this host.' }),
  remedy_proxy_jump: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .meta({
      description: 'Jump host(s), outermost first: "user@bastion:22" or an inventory host name; a list or a comma-separated string.',
    }),
};

export const InventoryHostVars = z
  .object(connectionVars)
  .catchall(InventoryVarValue)
  .meta({ id: 'HostVars', description: 'Vars of one host. They override every group var.' });

export const InventoryGroupVars = z
  .object({
    ...connectionVars,
    ansible_group_priority: z
      .union([z.int(), z.string().regex(/^-?\d+$/)])
      .optional()
      .meta({
        description: 'Among groups at the same depth, vars of the higher priority win (default 1; equal priorities: alphabetical, later wins).',
      }),
  })
  .catchall(InventoryVarValue)
  .meta({ id: 'GroupVars', description: 'Vars every host of the group (and of its child groups) sees; child groups and hosts override them.' });

const HostsSection = z.union([z.record(z.string(), InventoryHostVars.nullable()), z.string().meta({ description: 'A single host name.' }), z.null()]).meta({
  description:
    'Hosts of the group: a mapping of host name to its vars (or nothing). Names may carry a port (mp-1:2222) or a range (mp-[1:4], db-[01:10], node-[a:c]).',
});

export interface InventoryGroupInput {
  hosts?: Record<string, z.input<typeof InventoryHostVars> | null> | string | null | undefined;
  children?: Record<string, InventoryGroupInput | null> | string | null | undefined;
  vars?: z.input<typeof InventoryGroupVars> | null | undefined;
}

export const InventoryGroup: z.ZodType<InventoryGroupInput> = z
  .strictObject({
    hosts: HostsSection.optional(),
    get children() {
      return z
        .union([z.record(z.string(), InventoryGroup.nullable()), z.string().meta({ description: 'A single child group name.' }), z.null()])
        .optional()
        .meta({ description: 'Child groups, each defined in place. Their hosts are members of this group too.' });
    },
    vars: InventoryGroupVars.nullable().optional(),
  })
  .meta({ id: 'Group', description: 'An inventory group: hosts, child groups and vars. Only these three keys are allowed.' });

export const InventoryFile = z
  .object({
    all: InventoryGroup.nullable().optional().meta({ description: 'The root group: every host belongs to it.' }),
  })
  .catchall(InventoryGroup.nullable())
  .meta({
    title: 'Ansible YAML inventory (as read by remedy)',
    description:
      'An Ansible inventory in YAML: top-level keys are groups (usually just `all`), each with `hosts`, `children` and `vars`. Vars precedence: all < parent group < child group < host; group_vars/ and host_vars/ next to the file are read too.',
  });

export type InventoryFileInput = z.input<typeof InventoryFile>;
