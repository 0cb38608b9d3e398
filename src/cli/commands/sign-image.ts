import type { Command } from 'commander';
import { LadingError } from '../../errors/lading-error.js';

export function registerSignImage(program: Command): void {
  program
    .command('sign')
    .description('sign an image in a registry (cosign .sig format)')
    .allowUnknownOption(true)
    .action(() => {
      throw new LadingError('USAGE', 'sign: not implemented yet');
    });
}
