import { LadingError } from '@lading/engine/errors';
import type { Command } from 'commander';
import { dockerConfigPathFrom } from '../environment.js';
import { collect, printGateLines, printWarnings } from '../output.js';
import { keySource, signingKeySource } from '../password.js';

interface AttestFlags {
  key: string;
  predicate: string;
  type: string;
  replace?: boolean;
  bundle?: string;
  insecureRegistry: string[];
}

interface VerifyAttestationFlags {
  key: string;
  type?: string;
  policy?: string;
  insecureRegistry: string[];
}

const MAX_PREDICATE_BYTES = 32 * 1024 * 1024;

export function registerAttest(program: Command): void {
  program
    .command('attest')
    .description('attach a signed in-toto attestation to an image (cosign .att format)')
    .argument('<image>', 'image reference; a tag is resolved to its digest first')
    .requiredOption('--key <key>', 'private key: file path or env://VAR')
    .requiredOption('--predicate <file>', 'predicate JSON file (e.g. from `lading provenance`, an SBOM, a report)')
    .option(
      '--type <type>',
      'slsaprovenance1, slsaprovenance, cyclonedx, spdxjson, vuln, openvex, lading-report, custom or a URI',
      'custom',
    )
    .option('--replace', 'remove earlier attestations of the same predicate type')
    .option('--bundle <file>', 'also write the signed envelope as a Sigstore bundle v0.3')
    .option('--insecure-registry <host>', 'allow plain HTTP to this registry, repeatable', collect, [])
    .action(async (image: string, flags: AttestFlags) => {
      const {
        dsseBundle,
        readInputFile,
        writeNewFile,
        attestImage,
        resolveImage,
        PREDICATE_TYPES,
        predicateTypeFor,
        rfc3339,
        attachmentRegistry,
        loadSigningKey,
      } = await loadImplementation();
      const predicateType = predicateTypeFor(flags.type);
      const predicateBytes = await readInputFile(flags.predicate, 'predicate', MAX_PREDICATE_BYTES);
      // cosign wraps `custom` predicates as text with a timestamp; every other type is the file's JSON as is.
      const predicate =
        predicateType === PREDICATE_TYPES['custom']
          ? { Data: predicateBytes.toString('utf8'), Timestamp: rfc3339(new Date()) }
          : parsePredicate(predicateBytes, flags.predicate);
      const key = await loadSigningKey(flags.key, signingKeySource(process.env));
      const registry = attachmentRegistry({
        insecureRegistries: flags.insecureRegistry,
        dockerConfigPath: dockerConfigPathFrom(process.env),
      });
      const resolved = await resolveImage(registry, image);
      if (resolved.byTag) {
        printWarnings([`${image} is a tag; attesting ${resolved.name}@${resolved.digest}`]);
      }
      const result = await attestImage(registry, resolved, key, predicateType, predicate, {
        replace: !!flags.replace,
        predicateSource: flags.predicate,
      });
      if (flags.bundle) {
        await writeNewFile(flags.bundle, `${JSON.stringify(dsseBundle(key, result.envelope))}\n`, { force: true });
      }
      process.stderr.write(`Pushed ${predicateType} attestation to ${resolved.name}:${result.tag}\n`);
    });

  program
    .command('verify-attestation')
    .description('verify in-toto attestations of an image against a public key; prints the statements')
    .argument('<image>', 'image reference')
    .requiredOption('--key <key>', 'public key: file path or env://VAR')
    .option('--type <type>', 'only accept this predicate type (short name or URI); default any')
    .option(
      '--policy <file>',
      'also require every attested Lading scan report (--type lading-report) to pass this policy',
    )
    .option('--insecure-registry <host>', 'allow plain HTTP to this registry, repeatable', collect, [])
    .action(async (image: string, flags: VerifyAttestationFlags) => {
      const {
        verifyImageAttestations,
        resolveImage,
        predicateTypeFor,
        attachmentRegistry,
        loadVerificationKey,
        attestationSubject,
      } = await loadImplementation();
      const predicateType = flags.type ? predicateTypeFor(flags.type) : undefined;
      // A malformed policy is a usage error before any network traffic.
      const policy = flags.policy ? await (await import('@lading/engine/policy')).loadPolicy(flags.policy) : undefined;
      const key = await loadVerificationKey(flags.key, keySource(process.env));
      const registry = attachmentRegistry({
        insecureRegistries: flags.insecureRegistry,
        dockerConfigPath: dockerConfigPathFrom(process.env),
      });
      const resolved = await resolveImage(registry, image);
      const statements = await verifyImageAttestations(registry, resolved, key, predicateType);
      const [{ plural }, subject] = await Promise.all([
        import('@lading/engine/report'),
        policy ? attestationSubject(registry, resolved) : undefined,
      ]);
      process.stderr.write(
        `Verified ${plural(statements.length, 'attestation')} of ${resolved.name}@${resolved.digest}\n`,
      );
      process.stdout.write(`${JSON.stringify(statements, null, 2)}\n`);
      if (policy && subject) {
        const { checkAttestedReports } = await import('@lading/engine/policy');
        // Each attested report must be of this image (its digest, or a platform manifest of this index).
        const verdict = checkAttestedReports(statements, policy, new Date(), subject);
        printGateLines(verdict.pass ? verdict.notes : verdict.reasons);
        if (!verdict.pass) process.exitCode = 1;
      }
    });
}

function parsePredicate(bytes: Buffer, source: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new LadingError('BAD_INPUT', `${source}: the predicate is not JSON`);
  }
}

/** The implementation modules, loaded when a command runs so that CLI startup stays cheap. */
async function loadImplementation() {
  const [m0, m1, m2, m3, m4, m5, m6, m7] = await Promise.all([
    import('@lading/engine/attest'),
    import('@lading/engine/attest'),
    import('@lading/engine/attest'),
    import('@lading/engine/attest'),
    import('@lading/engine/attest'),
    import('@lading/engine/attest'),
    import('@lading/engine/attest'),
    import('@lading/engine/attest'),
  ]);
  return { ...m0, ...m1, ...m2, ...m3, ...m4, ...m5, ...m6, ...m7 };
}
