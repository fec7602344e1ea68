// Placeholder until the report command lands; replaced by its owner.
import type { Command } from 'commander';
import { RemedyError } from '../../errors.js';
import { action } from '../exit.js';

export function register(program: Command): void {
  program
    .command('report')
    .description('(not yet available)')
    .allowUnknownOption()
    .action(
      action(async () => {
        throw new RemedyError('remedy report is not available yet');
      }),
    );
}
