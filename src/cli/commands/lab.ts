// `remedy lab up|status|break|heal|down`: the simulated Apigee Edge Private Cloud (src/lab).
import { relative } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import pc from 'picocolors';
import { UsageError } from '../../errors.js';
import {
  labBreakMany,
  labDown,
  labHeal,
  labStatus,
  labUp,
  parseScenario,
  DEFAULT_LAB_DIR,
  ROUTER_SCENARIOS,
  SCENARIOS,
  SCENARIO_HELP,
} from '../../lab/index.js';
import type { FaultRequest, LabInfo, LabStatus } from '../../lab/index.js';
import { action } from '../exit.js';

function intOption(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number`);
    return Number(value);
  };
}

/** Paths shown relative to the current directory when that is shorter. */
function show(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && rel.length < path.length ? rel : path;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map(
      (r) =>
        '  ' +
        r
          .map((cell, c) => cell.padEnd(widths[c] ?? 0))
          .join('  ')
          .trimEnd(),
    )
    .join('\n');
}

/** `mps-down --hosts mp-1,mp-2 backend-error`: each --hosts applies to the scenario just before it. */
export function parseBreakArgs(args: readonly string[]): FaultRequest[] {
  const out: { scenario: FaultRequest['scenario']; hosts?: string[] }[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--hosts' || a.startsWith('--hosts=')) {
      const value = a === '--hosts' ? args[++i] : a.slice('--hosts='.length);
      if (value === undefined || value === '' || value.startsWith('-')) throw new UsageError('--hosts needs a comma-separated list of hosts or groups');
      const last = out[out.length - 1];
      if (!last) throw new UsageError(`--hosts goes after the scenario it applies to, e.g. remedy lab break mps-down --hosts ${value}`);
      if (last.hosts) throw new UsageError(`${last.scenario} has two --hosts lists; give one, comma-separated`);
      last.hosts = value.split(',');
    } else if (a.startsWith('-')) {
      throw new UsageError(`unknown option ${a} for lab break (options: --hosts LIST after a scenario, --dir DIR)`);
    } else {
      out.push({ scenario: parseScenario(a) });
    }
  }
  return out;
}

function printUp(info: LabInfo): void {
  const mps = info.hosts.filter((h) => h.role === 'message-processor').length;
  const secs = ((info.elapsedMs ?? 0) / 1000).toFixed(1);
  const out = [
    `${pc.green('remedy lab: up')} in ${secs} s: ${info.routers.length} Routers, ${mps} Message Processors in ${show(info.dir)}`,
    table(info.routers.map((r) => [r.name, r.region, r.url])),
    table([
      ['inventory', show(info.inventory)],
      ['known_hosts', show(info.knownHosts)],
      ['ssh', `ssh -F ${show(info.sshConfig)} mp-1`],
      ['login', `${info.loginUser} (become: ${info.becomeMethod}; service user ${info.serviceUser})`],
    ]),
    `Break it: remedy lab break <${SCENARIOS.join('|')}> [--hosts dc_1] [another scenario [--hosts …]]`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

function printStatus(s: LabStatus): void {
  const state = s.running ? pc.green('running') : pc.yellow('down');
  const lines = [`lab ${show(s.dir)}: ${state}`];
  lines.push(table([['ROUTER', 'REGION', 'URL', 'HTTP'], ...s.routers.map((r) => [r.name, r.region, r.url, r.status === null ? '-' : String(r.status)])]));
  lines.push(
    table([
      ['HOST', 'ROLE', 'REGION', 'SSH', 'SSHD', 'SERVICE', 'PID', 'READY'],
      ...s.hosts.map((h) => [h.name, h.role, h.region, String(h.sshPort), h.sshd, h.service, h.pid === null ? '-' : String(h.pid), h.ready ? 'yes' : 'no']),
    ]),
  );
  lines.push(`  backend ${s.backend.url} ${s.backend.running ? 'running' : 'stopped'}`);
  lines.push(`  inventory ${show(s.inventory)}`);
  if (s.faults.length) {
    lines.push(`  faults applied since the last heal (a runbook may have fixed them since):`);
    for (const f of s.faults) lines.push(`    ${f.scenario} on ${f.hosts.join(', ')} at ${f.at}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function register(program: Command): void {
  const lab = program
    .command('lab')
    .description('a simulated Apigee Edge Private Cloud on loopback (real sshd, nginx Routers, JVM Message Processors) to rehearse incidents');
  const dirOption = ['--dir <dir>', `lab directory (default ${DEFAULT_LAB_DIR})`] as const;

  lab
    .command('up')
    .description('build and start the lab; waits until every Router answers 200')
    .option(...dirOption)
    .option('--regions <n>', 'regions dc_1 … dc_N (default 2)', intOption('--regions'))
    .option('--mps-per-region <n>', 'Message Processors per region (default 2)', intOption('--mps-per-region'))
    .option('--org <org>', 'organization (default myorg)')
    .option('--env <env>', 'environment (default prod)')
    .option('--base-port <port>', 'first port of the lab block on 127.0.0.1 (default: chosen from the directory)', intOption('--base-port'))
    .option('--json', 'print the lab description as JSON')
    .action(
      action(async (opts: { dir?: string; regions?: number; mpsPerRegion?: number; org?: string; env?: string; basePort?: number; json?: boolean }) => {
        const info = await labUp({ ...opts, log: opts.json ? undefined : (line) => process.stderr.write(`${pc.dim(line)}\n`) });
        if (opts.json) process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
        else printUp(info);
      }),
    );

  lab
    .command('status')
    .description('what is running and answering (checked live)')
    .option(...dirOption)
    .option('--json', 'print { inventory, routers: [{ name, region, url }], hosts: [...] } as JSON')
    .action(
      action(async (opts: { dir?: string; json?: boolean }) => {
        const s = await labStatus(opts.dir);
        if (opts.json) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
        else printStatus(s);
      }),
    );

  lab
    .command('break')
    .description('switch on one or several faults through the real components')
    .argument('<scenario...>', `${SCENARIOS.join(' | ')}, each optionally followed by --hosts LIST`)
    .option(...dirOption)
    .allowUnknownOption() // --hosts belongs to the scenario before it, so it is parsed here, in order
    .addHelpText(
      'after',
      `\n--hosts LIST after a scenario: comma-separated hosts or groups it acts on (MPs: mp-1, dc_2, message_processors;
Routers for ${ROUTER_SCENARIOS.join(', ')}: router-1, dc_2, routers); default: every MP, or every Router.
Several scenarios at once: remedy lab break mps-down --hosts mp-1,mp-2 backend-error

Scenarios:\n${SCENARIOS.map((s) => `  ${s.padEnd(20)} ${SCENARIO_HELP[s]}`).join('\n')}\n`,
    )
    .action(
      action(async (args: string[], opts: { dir?: string }) => {
        const faults = await labBreakMany(opts.dir, parseBreakArgs(args));
        const lines = faults.map((f) => `${pc.yellow(`remedy lab: ${f.scenario}`)} on ${f.hosts.join(', ')}\n  ${SCENARIO_HELP[f.scenario]}`);
        process.stdout.write(`${lines.join('\n')}\n  undo: remedy lab heal${opts.dir ? ` --dir ${opts.dir}` : ''}\n`);
      }),
    );

  lab
    .command('heal')
    .description('return every host to healthy (pristine properties, restarts, regenerated Router configs)')
    .option(...dirOption)
    .action(
      action(async (opts: { dir?: string }) => {
        const started = Date.now();
        await labHeal(opts.dir);
        process.stdout.write(`${pc.green('remedy lab: healthy')} (every Router answers 200) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      }),
    );

  lab
    .command('down')
    .description('stop every process of the lab by pid; nothing is left listening')
    .option(...dirOption)
    .option('--purge', 'also delete the lab directory (logs included)')
    .action(
      action(async (opts: { dir?: string; purge?: boolean }) => {
        await labDown(opts.dir, { purge: opts.purge === true });
        process.stdout.write(`remedy lab: down${opts.purge ? ' (directory deleted)' : ''}\n`);
      }),
    );

  // Usage errors in these subcommands exit 64 like everywhere else (main.ts maps CommanderError).
  for (const cmd of lab.commands) cmd.exitOverride();
  lab.exitOverride();
}
