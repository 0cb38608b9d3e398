import type { KeyObject } from 'node:crypto';
import { stringify } from 'yaml';
import { LadingError } from '../errors/lading-error.js';
import { PREDICATE_TYPES, predicateTypeFor } from './predicate-types.js';

/**
 * A Kyverno `ClusterPolicy` (kyverno.io/v1) that admits only images signed with one key, carrying the named
 * attestations signed with it, and pods that follow the hardening rules. Key-based and Rekor-less, as Lading signs:
 * every attestor ignores the transparency log and SCTs (`lading sign`/`attest` write the cosign `.sig`/`.att` tags,
 * which Kyverno's default `type: Cosign` reads).
 */
export interface KyvernoPolicyOptions {
  /** The public key (any form `createPublicKey` reads); written as SPKI PEM. */
  publicKey: KeyObject;
  /** Attestations to require: cosign short names (`slsaprovenance`, `slsaprovenance1`, `cyclonedx`, `vuln`…) or URIs. */
  attestations?: readonly string[];
  /** Image reference globs the verification applies to (default `*`: every image). */
  imagePatterns?: readonly string[];
  /** `Enforce` (default) denies; `Audit` only reports (and never rewrites tags to digests). */
  mode?: 'Enforce' | 'Audit';
  /** Provenance must name this builder (`runDetails.builder.id`, v0.2 `builder.id`): needs a provenance attestation. */
  builderId?: string;
  /** The vulnerability attestation must report no finding at these severities: needs `vuln`. */
  denySeverities?: readonly string[];
  /** Registries (globs like `registry.example.com/*`) pods may pull from; no allowlist rule when empty. */
  registries?: readonly string[];
  /** `metadata.name` (default `lading-signed-images`). */
  name?: string;
}

export interface KyvernoCondition {
  key: string;
  operator: 'Equals';
  value: string | number;
}

const SLSA_TYPES = new Set([PREDICATE_TYPES['slsaprovenance'], PREDICATE_TYPES['slsaprovenance1']]);
const VULN_TYPE = PREDICATE_TYPES['vuln'] as string;
const SEVERITY_WORDS = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];

/** A Kubernetes object name: lower-case alphanumerics and `-`, at most 63 characters here. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The policy as a plain object (what `kyvernoPolicyYaml` writes). Throws USAGE on options that contradict. */
export function kyvernoPolicy(options: KyvernoPolicyOptions): Record<string, unknown> {
  const mode = options.mode ?? 'Enforce';
  const name = options.name ?? 'lading-signed-images';
  if (!DNS_LABEL.test(name)) {
    throw new LadingError('USAGE', `${name}: a policy name is lower-case letters, digits and '-'`, { option: 'name' });
  }
  const types = [...new Set((options.attestations ?? []).map(attestationType))];
  const images = options.imagePatterns?.length ? [...options.imagePatterns] : ['*'];
  const provenance = types.filter((t) => SLSA_TYPES.has(t));
  if (options.builderId && provenance.length === 0) {
    throw new LadingError(
      'USAGE',
      'is checked in a provenance attestation: require one (slsaprovenance or slsaprovenance1)',
      {
        option: 'builderId',
      },
    );
  }
  const severities = (options.denySeverities ?? []).map((s) => s.toUpperCase());
  const unknown = severities.find((s) => !SEVERITY_WORDS.includes(s));
  if (unknown) {
    throw new LadingError('USAGE', `${unknown}: not a severity (${SEVERITY_WORDS.join(', ')})`, {
      option: 'denySeverities',
    });
  }
  if (severities.length && !types.includes(VULN_TYPE)) {
    throw new LadingError('USAGE', 'is checked in a vulnerability attestation: require vuln too', {
      option: 'denySeverities',
    });
  }

  const keys = {
    publicKeys: publicKeyPem(options.publicKey),
    signatureAlgorithm: 'sha256',
    // Lading signs without a transparency log: Kyverno must not look for a Rekor entry or an SCT.
    rekor: { url: 'https://rekor.sigstore.dev', ignoreTlog: true },
    ctlog: { ignoreSCT: true },
  };
  const attestors = [{ count: 1, entries: [{ keys }] }];
  // Kyverno rewrites tags to digests only when it may deny: in Audit mode it must not mutate.
  const common = { imageReferences: images, mutateDigest: mode === 'Enforce', verifyDigest: true, required: true };
  const pods = { any: [{ resources: { kinds: ['Pod'] } }] };

  const rules: Record<string, unknown>[] = [
    { name: 'verify-signature', match: pods, verifyImages: [{ ...common, attestors }] },
  ];
  if (types.length) {
    // One verifyImages entry checks signatures or attestations, not both (Kyverno's documented form): a second rule.
    const attestations = types.map((type) => {
      const conditions = attestationConditions(type, options.builderId, severities);
      return { type, attestors, ...(conditions.length ? { conditions: [{ all: conditions }] } : {}) };
    });
    rules.push({ name: 'verify-attestations', match: pods, verifyImages: [{ ...common, attestations }] });
  }
  for (const rule of runtimeRules(pods)) rules.push(rule);
  if (options.registries?.length) rules.push(registryRule(pods, options.registries));

  return {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: {
      name,
      annotations: {
        'policies.kyverno.io/title': 'Signed, attested and hardened images',
        'policies.kyverno.io/category': 'Software Supply Chain Security',
        'policies.kyverno.io/subject': 'Pod',
        'policies.kyverno.io/description':
          `Images must be signed with the Lading key${types.length ? ` and carry ${types.join(', ')} attestations signed with it` : ''}; ` +
          'pods run as non-root, unprivileged, with a read-only root filesystem, no host namespaces and resource limits' +
          `${options.registries?.length ? ', from allowed registries only' : ''}. Generated by lading kyverno.`,
      },
    },
    spec: { validationFailureAction: mode, background: false, webhookTimeoutSeconds: 30, rules },
  };
}

/** The policy as YAML, the public key as a literal block. */
export function kyvernoPolicyYaml(options: KyvernoPolicyOptions): string {
  return stringify(kyvernoPolicy(options), { lineWidth: 0 });
}

/**
 * JMESPath conditions on an attestation's predicate (Kyverno evaluates them with the predicate as root). The
 * severity count reads both Trivy's cosign-vuln result (`Results[].Vulnerabilities[].Severity`) and a Lading report
 * (`findings[].severity`, suppressed ones not counted); the `|| []` keeps `length` defined when a field is absent.
 */
export function attestationConditions(
  type: string,
  builderId: string | undefined,
  severities: readonly string[],
): KyvernoCondition[] {
  if (SLSA_TYPES.has(type) && builderId) {
    const path = type === PREDICATE_TYPES['slsaprovenance1'] ? 'runDetails.builder.id' : 'builder.id';
    return [{ key: `{{ ${path} }}`, operator: 'Equals', value: builderId }];
  }
  if (type === VULN_TYPE) {
    return severities.flatMap((s): KyvernoCondition[] => [
      {
        key: `{{ length(scanner.result.Results[].Vulnerabilities[?Severity=='${s}'][] || \`[]\`) }}`,
        operator: 'Equals',
        value: 0,
      },
      {
        key: `{{ length(scanner.result.findings[?severity=='${s}' && !suppressed] || \`[]\`) }}`,
        operator: 'Equals',
        value: 0,
      },
    ]);
  }
  return [];
}

/** `predicateTypeFor`, with its error naming this option. */
function attestationType(name: string): string {
  try {
    return predicateTypeFor(name);
  } catch (err) {
    if (err instanceof LadingError) throw new LadingError('USAGE', err.message, { option: 'attestations' });
    throw err;
  }
}

function publicKeyPem(key: KeyObject): string {
  if (key.type !== 'public') throw new LadingError('USAGE', 'the Kyverno policy takes a public key', { option: 'key' });
  return (key.export({ type: 'spki', format: 'pem' }) as string).trimEnd();
}

/** Every container kind of a pod, for a pattern each must match (`=(…)`: only where the field is present). */
function eachContainer(pattern: Record<string, unknown>, optional: Record<string, unknown> = pattern) {
  return {
    '=(ephemeralContainers)': [optional],
    '=(initContainers)': [optional],
    containers: [pattern],
  };
}

/** The hardening rules of the guide: non-root, unprivileged, read-only root filesystem, no host namespaces, limits. */
function runtimeRules(match: unknown): Record<string, unknown>[] {
  const nonRootContainer = { '=(securityContext)': { '=(runAsNonRoot)': true } };
  return [
    {
      name: 'require-run-as-non-root',
      match,
      validate: {
        message: 'Containers must run as non-root: set runAsNonRoot to true for the pod or for every container.',
        anyPattern: [
          { spec: { securityContext: { runAsNonRoot: true }, ...eachContainer(nonRootContainer) } },
          { spec: eachContainer({ securityContext: { runAsNonRoot: true } }) },
        ],
      },
    },
    {
      name: 'disallow-privileged-containers',
      match,
      validate: {
        message: 'Privileged containers are not allowed: privileged must be unset or false.',
        pattern: { spec: eachContainer({ '=(securityContext)': { '=(privileged)': 'false' } }) },
      },
    },
    {
      name: 'require-read-only-root-filesystem',
      match,
      validate: {
        message: 'The root filesystem must be read-only: set readOnlyRootFilesystem to true in every container.',
        pattern: {
          spec: eachContainer(
            { securityContext: { readOnlyRootFilesystem: true } },
            { '=(securityContext)': { '=(readOnlyRootFilesystem)': true } },
          ),
        },
      },
    },
    {
      name: 'disallow-host-namespaces',
      match,
      validate: {
        message: 'Sharing the host namespaces is not allowed: hostNetwork, hostPID and hostIPC must be unset or false.',
        pattern: { spec: { '=(hostPID)': 'false', '=(hostIPC)': 'false', '=(hostNetwork)': 'false' } },
      },
    },
    {
      name: 'require-resource-limits',
      match,
      validate: {
        message: 'CPU and memory limits are required for every container.',
        pattern: { spec: { containers: [{ resources: { limits: { memory: '?*', cpu: '?*' } } }] } },
      },
    },
  ];
}

function registryRule(match: unknown, registries: readonly string[]): Record<string, unknown> {
  const image = registries.join(' | ');
  return {
    name: 'restrict-image-registries',
    match,
    validate: {
      message: `Images must come from an allowed registry: ${registries.join(', ')}.`,
      pattern: { spec: eachContainer({ image }) },
    },
  };
}
