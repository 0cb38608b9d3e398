import type { Command } from 'commander';
import { LadingError } from '../../errors/lading-error.js';

export function registerProvenance(program: Command): void {
  program
    .command('provenance')
    .description('build a SLSA v1 provenance predicate from the CI environment')
    .allowUnknownOption(true)
    .action(() => {
      throw new LadingError('USAGE', 'provenance: not implemented yet');
    });
}
