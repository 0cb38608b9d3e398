import type { Command } from 'commander';
import { LadingError } from '../../errors/lading-error.js';

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('compare two images or reports: packages and findings added, removed, fixed')
    .allowUnknownOption(true)
    .action(() => {
      throw new LadingError('USAGE', 'diff: not implemented yet');
    });
}
