import type { Command } from 'commander';
import { LadingError } from '../../errors/lading-error.js';

export function registerKeys(program: Command): void {
  program
    .command('generate-key-pair')
    .description('write a cosign-compatible encrypted key pair')
    .allowUnknownOption(true)
    .action(() => {
      throw new LadingError('USAGE', 'generate-key-pair: not implemented yet');
    });
}
