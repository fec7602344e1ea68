#!/usr/bin/env node
// remedy's entry point: commander wiring only. Each command lives in commands/<name>.ts and
// errors become exit codes in exit.ts.
import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { EXIT, EXIT_TABLE } from '../errors.js';
import { reportError } from './exit.js';
import { register as validate } from './commands/validate.js';
import { register as schema } from './commands/schema.js';
import { register as plan } from './commands/plan.js';
import { register as graph } from './commands/graph.js';
import { register as run } from './commands/run.js';
import { register as resume } from './commands/resume.js';
import { register as report } from './commands/report.js';
import { register as guide } from './commands/guide.js';
import { register as lab } from './commands/lab.js';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

export function exitCodeHelp(): string {
  return `\nExit codes:\n${EXIT_TABLE.map((e) => `  ${String(e.code).padStart(3)}  ${e.meaning}`).join('\n')}\n`;
}

export function buildProgram(): Command {
  const program = new Command('remedy')
    .description('Runbook orchestrator for fleets reached over SSH: diagnose, decide, fix, verify.')
    .version(pkg.version)
    .showHelpAfterError()
    .addHelpText('after', exitCodeHelp());
  for (const register of [validate, plan, run, guide, resume, report, graph, schema, lab]) register(program);
  // Usage errors (unknown option, missing argument) exit 64, like every other bad input.
  program.exitOverride();
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

async function main(): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? EXIT.ok : EXIT.usage;
      return;
    }
    // An option parser (e.g. --forks) throws our own errors before any action runs.
    process.exitCode = reportError(err);
  }
}

await main();
