// The command-line options of a session (run, guide, resume), in one place.
import { type Command, Option } from 'commander';
import { DEFAULT_FORKS } from '../engine/executor.js';
import { UsageError } from '../errors.js';
import { OUTPUTS } from '../session/options.js';

export function parseForks(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--forks: expected a whole number of hosts (1 or more), got "${value}"`);
  return n;
}

export function wholeNumberOption(flag: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag}: expected a whole number from ${min} to ${max}, got "${value}"`);
    return n;
  };
}

/**
 * `-f, --format` picks what the console output looks like, as `-f` does in `plan` and `report`;
 * `--output` is its older name and still works. The value lands in `output` (default text); both
 * given and different is a usage error.
 */
export function addFormatOption(cmd: Command, description: string, choices: readonly string[]): Command {
  return cmd
    .addOption(new Option('-f, --format <format>', description).choices(choices))
    .addOption(new Option('--output <format>', 'the older name of --format').choices(choices))
    .hook('preAction', (self) => {
      const o = self.opts<{ format?: string; output?: string }>();
      if (o.format !== undefined && o.output !== undefined && o.format !== o.output)
        throw new UsageError(`--format ${o.format} and --output ${o.output} disagree: give one of them`);
      self.setOptionValue('output', o.format ?? o.output ?? 'text');
    });
}

/** The session options on a command, in one place. */
export function addSessionOptions(cmd: Command): Command {
  return addFormatOption(cmd, 'console output: text (live view on a TTY, plain lines otherwise) or jsonl (events for machines)', OUTPUTS)
    .option('--forks <n>', 'hosts worked on at once', parseForks, DEFAULT_FORKS)
    .option(
      '--known-hosts <file>',
      'known_hosts file to verify host keys against (besides ~/.ssh/known_hosts); new keys accepted by --accept-new-host-keys are recorded in it',
    )
    .option('--accept-new-host-keys', 'accept and record keys of hosts never seen before (a changed key is always refused)')
    .option('--operator <name>', 'who is running this, recorded with every approval (default: the OS user)')
    .option('--break-lock', 'remove a host lock left by another run (a stale one), recording whose it was')
    .option(
      '--server-alive-interval <seconds>',
      "SSH keepalive probe interval for every host (0 = off), over the inventory's ansible_ssh_common_args / ssh_config ServerAliveInterval; default 15. A host silent for interval × count (default 15 s × 3 = 45 s) is declared unreachable and its connection destroyed",
      wholeNumberOption('--server-alive-interval', 0, 86_400),
    )
    .option(
      '--server-alive-count-max <n>',
      'unanswered keepalive probes before a host is declared unreachable (default 3; ServerAliveCountMax)',
      wholeNumberOption('--server-alive-count-max', 1, 1000),
    );
}
