import type { AttachmentRegistry } from '@lading/engine/attest';
import { LadingError } from '@lading/engine/errors';
import type { Command } from 'commander';
import { dockerConfigPathFrom } from '../environment.js';
import { collect, printWarnings, writeOutput } from '../output.js';

interface ProvenanceFlags {
  subject: string[];
  baseImage: string[];
  sbom: string[];
  report: string[];
  startedOn?: string;
  sourceDir?: string;
  statement?: boolean;
  output?: string;
  insecureRegistry: string[];
}

export function registerProvenance(program: Command): void {
  program
    .command('provenance')
    .description('build a SLSA v1 provenance predicate from the CI environment (GitHub Actions, GitLab CI, local git)')
    .option(
      '--subject <image|file>',
      'artifact the build produced: a file (sha256) or an image (digest), repeatable',
      collect,
      [],
    )
    .option('--base-image <ref>', 'base image, recorded as a resolved dependency by digest, repeatable', collect, [])
    .option('--sbom <file>', 'SBOM the build produced, recorded as a byproduct, repeatable', collect, [])
    .option('--report <file>', 'scan report the build produced, recorded as a byproduct, repeatable', collect, [])
    .option('--source-dir <dir>', 'git checkout to read the commit from outside CI (default: current directory)')
    .option('--started-on <time>', 'build start (RFC 3339); default now')
    .option('--statement', 'print a whole in-toto Statement (needs --subject) instead of the bare predicate')
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .option('--insecure-registry <host>', 'allow plain HTTP to this registry, repeatable', collect, [])
    .action(async (flags: ProvenanceFlags) => {
      const {
        detectBuildContext,
        probeGit,
        buildProvenance,
        SLSA_PROVENANCE_V1,
        attachmentRegistry,
        buildStatement,
        describeSubject,
        fileDescriptor,
      } = await loadImplementation();
      if (flags.statement && flags.subject.length === 0) {
        throw new LadingError('USAGE', '--statement needs at least one --subject');
      }
      if (flags.subject.length > 0 && !flags.statement) {
        printWarnings(['--subject is only written with --statement; printing the bare predicate']);
      }
      const startedOn = flags.startedOn ? parseTime(flags.startedOn) : new Date();
      let registry: AttachmentRegistry | undefined;
      const lazyRegistry = () => {
        registry ??= attachmentRegistry({
          insecureRegistries: flags.insecureRegistry,
          dockerConfigPath: dockerConfigPathFrom(process.env),
        });
        return registry;
      };
      const subjects = [];
      for (const value of flags.subject) subjects.push(await describeSubject(value, lazyRegistry));
      const dependencies = [];
      for (const ref of flags.baseImage) {
        const dep = await describeSubject(ref, lazyRegistry);
        dependencies.push({ ...dep, annotations: { role: 'base-image' } });
      }
      const byproducts = [];
      for (const file of flags.sbom)
        byproducts.push({ ...(await fileDescriptor(file, 'SBOM')), annotations: { role: 'sbom' } });
      for (const file of flags.report) {
        byproducts.push({ ...(await fileDescriptor(file, 'report')), annotations: { role: 'scan-report' } });
      }
      const predicate = buildProvenance({
        context: detectBuildContext(process.env, probeGit, flags.sourceDir ?? process.cwd()),
        dependencies,
        byproducts,
        startedOn,
        finishedOn: new Date(),
      });
      const document = flags.statement ? buildStatement(subjects, SLSA_PROVENANCE_V1, predicate) : predicate;
      await writeOutput(
        flags.output ? { format: 'json', file: flags.output } : { format: 'json' },
        `${JSON.stringify(document, null, 2)}\n`,
      );
    });
}

function parseTime(value: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(date.getTime())) {
    throw new LadingError('USAGE', `--started-on ${value}: not an RFC 3339 time`);
  }
  return date;
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
