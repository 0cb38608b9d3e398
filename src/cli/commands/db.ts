import type { Command } from 'commander';
import { LadingError } from '../../errors/lading-error.js';

export function registerDb(program: Command): void {
  program
    .command('db')
    .description('manage the local vulnerability database (update, import, status, export)')
    .allowUnknownOption(true)
    .action(() => {
      throw new LadingError('USAGE', 'db: not implemented yet');
    });
}
