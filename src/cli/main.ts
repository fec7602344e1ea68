#!/usr/bin/env node
// remedy's entry point: commander wiring only. Each command lives in commands/<name>.ts and
// errors become exit codes in exit.ts.
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import type { Command as CommandType } from 'commander';
import { EXIT, EXIT_TABLE } from '../errors.js';
import { reportError } from './exit.js';

type Register = (program: CommandType) => void;
/**
 * Commands load on demand: `remedy run` need not load inquirer, the lab or the schema code
 * (start-up time and memory count at 500 hosts). Help and unknown commands load them all.
 */
const COMMANDS: Record<string, () => Promise<{ register: Register }>> = {
  validate: () => import('./commands/validate.js'),
  plan: () => import('./commands/plan.js'),
  run: () => import('./commands/run.js'),
  guide: () => import('./commands/guide.js'),
  resume: () => import('./commands/resume.js'),
  report: () => import('./commands/report.js'),
  graph: () => import('./commands/graph.js'),
  schema: () => import('./commands/schema.js'),
  test: () => import('./commands/test.js'),
  inventory: () => import('./commands/inventory.js'),
  lab: () => import('./commands/lab.js'),
  serve: () => import('./commands/serve.js'),
};

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

export function exitCodeHelp(): string {
  return `\nExit codes:\n${EXIT_TABLE.map((e) => `  ${String(e.code).padStart(3)}  ${e.meaning}`).join('\n')}\n`;
}

/** The commands a command line needs: the one it names, or every one (for help). */
export async function loadCommands(argv: readonly string[]): Promise<Register[]> {
  const name = argv.find((a) => !a.startsWith('-'));
  if (name === undefined && (argv.includes('-V') || argv.includes('--version'))) return [];
  // serve and worker are one module (two commands). resume needs only itself: the session
  // library loads the guided strategy when the journal says the run started guided.
  const key = name === 'worker' ? 'serve' : name;
  const wanted = key !== undefined && key in COMMANDS ? [key] : Object.keys(COMMANDS);
  const modules = await Promise.all(wanted.map((n) => (COMMANDS[n] as () => Promise<{ register: Register }>)()));
  return modules.map((m) => m.register);
}

export function buildProgram(registers: Register[]): Command {
  const program = new Command('remedy')
    .description('Runbook orchestrator for fleets reached over SSH: diagnose, decide, fix, verify.')
    .version(pkg.version)
    .showHelpAfterError()
    .addHelpText('after', exitCodeHelp());
  for (const register of registers) register(program);
  // Usage errors (unknown option, missing argument) exit 64, like every other bad input.
  program.exitOverride();
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

async function main(): Promise<void> {
  // `remedy plan … | head`: a closed pipe ends the output, not the program with a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  const program = buildProgram(await loadCommands(process.argv.slice(2)));
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help asked for (--help, `remedy help`) is exit 0; help shown because no command was
      // given (a bare `remedy`, error: true, exitCode 1) is a usage error like any other.
      const asked = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || (err.code === 'commander.help' && err.exitCode === 0);
      process.exitCode = asked ? EXIT.ok : EXIT.usage;
      return;
    }
    // An option parser (e.g. --forks) throws our own errors before any action runs.
    process.exitCode = reportError(err);
  }
}

await main();
