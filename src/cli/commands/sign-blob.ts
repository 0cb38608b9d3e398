import type { Command } from 'commander';
import { LadingError } from '../../errors/lading-error.js';

export function registerSignBlob(program: Command): void {
  program
    .command('sign-blob')
    .description('sign a file with a cosign-compatible key')
    .allowUnknownOption(true)
    .action(() => {
      throw new LadingError('USAGE', 'sign-blob: not implemented yet');
    });
}
