import { LadingError } from '@lading/engine/errors';
import type { Command } from 'commander';
import { dockerConfigPathFrom, offlineFrom, sourceDateEpochFrom } from '../environment.js';
import { collect, printWarnings } from '../output.js';

interface FlattenFlags {
  output: string;
  json?: boolean;
  platform?: string;
  insecureRegistry: string[];
  offline?: boolean;
}

export function registerFlatten(program: Command): void {
  program
    .command('flatten')
    .description('rewrite an image as one layer (its squashed view), the config kept, into an OCI layout')
    .argument('<target>', 'an image: docker-archive:, oci:, oci-archive: or a registry reference')
    .requiredOption('-o, --output <oci:dir[:tag]>', 'the OCI image layout to write (created, or added to)')
    .option('--json', 'print the result (digests, sizes before and after) as JSON on stdout')
    .option('--platform <os/arch>', 'platform to pick from multi-platform images')
    .option('--insecure-registry <host>', 'allow plain HTTP to this registry, repeatable', collect, [])
    .option('--offline', 'never reach the network')
    .action(async (spec: string, flags: FlattenFlags) => {
      const out = parseOciOutput(flags.output);
      const { flattenImage } = await import('@lading/engine/flatten');
      const options: Parameters<typeof flattenImage>[1] = {
        outDir: out.dir,
        insecureRegistries: flags.insecureRegistry,
        dockerConfigPath: dockerConfigPathFrom(process.env),
        offline: offlineFrom(flags.offline, process.env),
      };
      if (out.tag) options.tag = out.tag;
      if (flags.platform) options.platform = flags.platform;
      const created = sourceDateEpochFrom(process.env);
      if (created) options.created = created.toISOString().replace('.000Z', 'Z');
      const result = await flattenImage(spec, options);
      const { before, after } = result.size;
      const dest = `oci:${out.dir}${out.tag ? `:${out.tag}` : ''}`;
      process.stderr.write(
        `flattened ${result.source.ref} (${result.source.layers} layers) into ${dest}: ${result.manifestDigest}\n` +
          `size: compressed ${before.compressed ?? '?'} → ${after.compressed} bytes, ` +
          `uncompressed ${before.uncompressed} → ${after.uncompressed} bytes\n`,
      );
      printWarnings(
        result.droppedLinks.map(
          (path) => `hard link /${path} left out: the file it was bound to is not in the squashed view`,
        ),
      );
      if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    });
}

/** `oci:DIR[:TAG]`: a last colon-separated part without a slash is the tag. */
export function parseOciOutput(value: string): { dir: string; tag?: string } {
  if (!value.startsWith('oci:') || value.length === 4) {
    throw new LadingError('USAGE', `--output ${value}: expected oci:DIR[:TAG]`);
  }
  const rest = value.slice(4);
  const colon = rest.lastIndexOf(':');
  if (colon > 0 && !rest.slice(colon + 1).includes('/')) {
    const tag = rest.slice(colon + 1);
    if (tag === '') throw new LadingError('USAGE', `--output ${value}: the tag after ':' is empty`);
    return { dir: rest.slice(0, colon), tag };
  }
  return { dir: rest };
}
