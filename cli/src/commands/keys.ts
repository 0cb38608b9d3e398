import { existsSync } from 'node:fs';
import { LadingError } from '@lading/engine/errors';
import type { Command } from 'commander';
import { obtainPassword } from '../password.js';

interface KeyFlags {
  outputKeyPrefix: string;
  force?: boolean;
}

export function registerKeys(program: Command): void {
  program
    .command('generate-key-pair')
    .description('write a cosign-compatible encrypted key pair (PREFIX.key, PREFIX.pub)')
    .option('--output-key-prefix <prefix>', 'file name prefix of the key pair', 'cosign')
    .option('--force', 'overwrite existing key files')
    .action(async (flags: KeyFlags) => {
      const { writeNewFile, generateCosignKeyPair } = await loadImplementation();
      if (!flags.outputKeyPrefix) throw new LadingError('USAGE', '--output-key-prefix must not be empty');
      const keyPath = `${flags.outputKeyPrefix}.key`;
      const pubPath = `${flags.outputKeyPrefix}.pub`;
      if (!flags.force) {
        for (const path of [keyPath, pubPath]) {
          if (existsSync(path)) throw new LadingError('USAGE', `${path} already exists (use --force to overwrite)`);
        }
      }
      const password = await obtainPassword(`new key ${keyPath}`, process.env, { confirm: true });
      const pair = generateCosignKeyPair(password);
      await writeNewFile(keyPath, pair.privatePem, { force: !!flags.force, mode: 0o600 });
      await writeNewFile(pubPath, pair.publicPem, { force: !!flags.force });
      process.stderr.write(`Private key written to ${keyPath}\nPublic key written to ${pubPath}\n`);
    });
}

/** The implementation modules, loaded when a command runs so that CLI startup stays cheap. */
async function loadImplementation() {
  const [m0, m1, m2] = await Promise.all([
    import('@lading/engine/attest'),
    import('@lading/engine/attest'),
    import('@lading/engine/attest'),
  ]);
  return { ...m0, ...m1, ...m2 };
}
