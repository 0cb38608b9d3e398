import type { Command } from 'commander';
import { LadingError } from '../../errors/lading-error.js';

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('compare versions the way an ecosystem does')
    .allowUnknownOption(true)
    .action(() => {
      throw new LadingError('USAGE', 'version: not implemented yet');
    });
}
