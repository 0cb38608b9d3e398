import { stat } from 'node:fs/promises';
import { LadingError } from '@lading/engine/errors';
import type { Command } from 'commander';
import { dockerConfigPathFrom } from '../environment.js';
import { collect, printWarnings } from '../output.js';
import { keySource, signingKeySource } from '../password.js';

interface SignFlags {
  key: string;
  annotation: string[];
  insecureRegistry: string[];
}

export function registerSignImage(program: Command): void {
  program
    .command('sign')
    .description('sign an image in a registry (cosign .sig format)')
    .argument('<image>', 'image reference; a tag is resolved to its digest first')
    .requiredOption('--key <key>', 'private key: file path or env://VAR')
    .option('-a, --annotation <key=value>', 'extra claim in the signed payload, repeatable', collect, [])
    .option('--insecure-registry <host>', 'allow plain HTTP to this registry, repeatable', collect, [])
    .action(async (image: string, flags: SignFlags) => {
      const { parseAnnotations, signImage, resolveImage, attachmentRegistry, loadSigningKey } =
        await loadImplementation();
      await refuseLocalFile(image, 'use sign-blob to sign files, sign to sign images');
      const annotations = parseAnnotations(flags.annotation);
      // The key (and its password) first: a wrong password must fail before anything touches the registry.
      const key = await loadSigningKey(flags.key, signingKeySource(process.env));
      const registry = attachmentRegistry({
        insecureRegistries: flags.insecureRegistry,
        dockerConfigPath: dockerConfigPathFrom(process.env),
      });
      const resolved = await resolveImage(registry, image);
      if (resolved.byTag) {
        printWarnings([`${image} is a tag; signing the digest it points to now: ${resolved.name}@${resolved.digest}`]);
      }
      const result = await signImage(registry, resolved, key, annotations);
      process.stderr.write(
        result.added
          ? `Pushed signature to ${resolved.name}:${result.tag}\n`
          : `The same signature is already in ${resolved.name}:${result.tag}\n`,
      );
    });

  program
    .command('verify')
    .description('verify an image signature (cosign .sig format) against a public key; prints the signed payloads')
    .argument('<image>', 'image reference')
    .requiredOption('--key <key>', 'public key: file path or env://VAR')
    .option('-a, --annotation <key=value>', 'require this signed annotation, repeatable', collect, [])
    .option('--insecure-registry <host>', 'allow plain HTTP to this registry, repeatable', collect, [])
    .action(async (image: string, flags: SignFlags) => {
      const { parseAnnotations, verifyImageSignatures, resolveImage, attachmentRegistry, loadVerificationKey } =
        await loadImplementation();
      await refuseLocalFile(image, 'use verify-blob to verify files, verify to verify images');
      const required = parseAnnotations(flags.annotation);
      const key = await loadVerificationKey(flags.key, keySource(process.env));
      const registry = attachmentRegistry({
        insecureRegistries: flags.insecureRegistry,
        dockerConfigPath: dockerConfigPathFrom(process.env),
      });
      const resolved = await resolveImage(registry, image);
      const payloads = await verifyImageSignatures(registry, resolved, key, required);
      const { plural } = await import('@lading/engine/report');
      process.stderr.write(
        `Verified ${plural(payloads.length, 'signature')} of ${resolved.name}@${resolved.digest}: signature, payload digest and identity\n`,
      );
      process.stdout.write(`${JSON.stringify(payloads, null, 2)}\n`);
    });
}

/**
 * `sign FILE` names a file where an image reference belongs: say which command signs files, rather than letting the
 * path fail as a malformed image reference.
 */
async function refuseLocalFile(image: string, remedy: string): Promise<void> {
  const isFile = await stat(image).then(
    (s) => s.isFile(),
    () => false,
  );
  if (isFile) throw new LadingError('USAGE', `${image} is a file: ${remedy}`);
}

/** The implementation modules, loaded when a command runs so that CLI startup stays cheap. */
async function loadImplementation() {
  const [m0, m1, m2, m3, m4] = await Promise.all([
    import('@lading/engine/attest'),
    import('@lading/engine/attest'),
    import('@lading/engine/attest'),
    import('@lading/engine/attest'),
    import('@lading/engine/attest'),
  ]);
  return { ...m0, ...m1, ...m2, ...m3, ...m4 };
}
