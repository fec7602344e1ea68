// Placeholder until the resume command lands; replaced by its owner.
import type { Command } from 'commander';
import { RemedyError } from '../../errors.js';
import { action } from '../exit.js';

export function register(program: Command): void {
  program
    .command('resume')
    .description('(not yet available)')
    .allowUnknownOption()
    .action(
      action(async () => {
        throw new RemedyError('remedy resume is not available yet');
      }),
    );
}
