import { LadingError } from '@lading/engine/errors';
import type { Command } from 'commander';
import { collect, writeOutput } from '../output.js';
import { keySource } from '../password.js';

interface KyvernoFlags {
  key: string;
  attestation: string[];
  imagePattern: string[];
  mode: string;
  builderId?: string;
  denySeverity?: string;
  registry: string[];
  name?: string;
  output?: string;
}

export function registerKyverno(program: Command): void {
  program
    .command('kyverno')
    .description(
      'write a Kyverno ClusterPolicy admitting only images signed (and attested) with this key, run hardened',
    )
    .requiredOption('--key <key>', 'public key the images are signed with: file path or env://VAR')
    .option(
      '--attestation <type>',
      'require this attestation, signed with the key (slsaprovenance, slsaprovenance1, cyclonedx, vuln, … or a URI); repeatable',
      collect,
      [],
    )
    .option('--image-pattern <glob>', 'images the verification applies to (default *), repeatable', collect, [])
    .option('--mode <mode>', 'Enforce (deny) or Audit (report only)', 'Enforce')
    .option('--builder-id <id>', 'the provenance attestation must name this builder (runDetails.builder.id)')
    .option('--deny-severity <list>', 'the vuln attestation must report no finding at these severities (e.g. critical)')
    .option(
      '--registry <glob>',
      'pods may pull only from these registries (e.g. reg.example.com/*), repeatable',
      collect,
      [],
    )
    .option('--name <name>', 'the policy name', 'lading-signed-images')
    .option('-o, --output <file>', 'write the policy here instead of standard output')
    .action(async (flags: KyvernoFlags) => {
      const mode =
        flags.mode.toLowerCase() === 'enforce' ? 'Enforce' : flags.mode.toLowerCase() === 'audit' ? 'Audit' : undefined;
      if (!mode) throw new LadingError('USAGE', `--mode ${flags.mode}: choose Enforce or Audit`);
      const { kyvernoPolicyYaml, loadVerificationKey } = await import('@lading/engine/attest');
      const publicKey = await loadVerificationKey(flags.key, keySource(process.env));
      const yaml = kyvernoPolicyYaml({
        publicKey,
        attestations: flags.attestation,
        imagePatterns: flags.imagePattern,
        mode,
        ...(flags.builderId ? { builderId: flags.builderId } : {}),
        ...(flags.denySeverity ? { denySeverities: flags.denySeverity.split(',').map((s) => s.trim()) } : {}),
        registries: flags.registry,
        ...(flags.name ? { name: flags.name } : {}),
      });
      await writeOutput(flags.output ? { format: 'yaml', file: flags.output } : { format: 'yaml' }, yaml);
    });
}
