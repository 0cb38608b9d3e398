import type { Command } from 'commander';
import { LadingError } from '../../errors/lading-error.js';

export function registerAttest(program: Command): void {
  program
    .command('attest')
    .description('attach a signed in-toto attestation to an image (cosign .att format)')
    .allowUnknownOption(true)
    .action(() => {
      throw new LadingError('USAGE', 'attest: not implemented yet');
    });
}
