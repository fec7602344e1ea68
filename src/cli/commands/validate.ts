// Placeholder until the validate command lands; replaced by its owner.
import type { Command } from 'commander';
import { RemedyError } from '../../errors.js';
import { action } from '../exit.js';

export function register(program: Command): void {
  program
    .command('validate')
    .description('(not yet available)')
    .allowUnknownOption()
    .action(
      action(async () => {
        throw new RemedyError('remedy validate is not available yet');
      }),
    );
}
