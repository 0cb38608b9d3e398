import type { Command } from 'commander';
import { addTargetOptions, runScanCommand, type ScanFlags } from './scan.js';

export function registerSbom(program: Command): void {
  const cmd = program
    .command('sbom')
    .description('write the SBOM of an image, root filesystem or SBOM (CycloneDX or SPDX JSON)')
    .argument('<target>', 'registry ref, docker-archive:, oci:, oci-archive:, dir:, sbom: or a path');
  addTargetOptions(cmd).action(async (target: string, flags: ScanFlags) => {
    // An SBOM has no place for secrets: the walk skips the scanner.
    await runScanCommand(target, { ...flags, sbomOnly: true, secrets: false }, 'cyclonedx-json');
  });
}
