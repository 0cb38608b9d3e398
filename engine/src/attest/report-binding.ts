import type { Report } from '../model/report.js';

/**
 * Whether a Lading report is about a given image: shared by `attest` (before signing) and `verify-attestation
 * --policy` (before gating). Kept apart from the predicate checks so that the policy module does not load them.
 */

/** The image an attestation is about: its manifest digest, and its platform manifests' when it is an index. */
export interface AttestationSubject {
  /** `registry/repository`, for messages. */
  name: string;
  /** `sha256:<hex>` of the manifest or index the statement names. */
  digest: string;
  /** For an index: the digests of the manifests it lists (a report of one platform's image binds to the index). */
  platformDigests?: readonly string[];
}

/**
 * Why `report` is not a report of `subject`, or undefined when it is. A report binds by the manifest digest it
 * recorded (`target.digest`, or a `name@sha256:…` in `target.repoTags`), equal to the subject's digest or, when the
 * subject is an index, to one of its platform manifests. A report without an image digest (a folder, an SBOM)
 * cannot be bound to an image.
 */
export function reportSubjectMismatch(report: Report, subject: AttestationSubject): string | undefined {
  const target = report.target;
  const recorded = reportImageDigests(report);
  const of = `${target.ref}${target.digest ? ` @ ${target.digest}` : ''}`;
  if (recorded.length === 0) {
    return `the Lading report names no image digest (its target is ${of}), so it cannot be bound to ${subject.name}@${subject.digest}: scan the image as pushed (${subject.name}@${subject.digest}) and attest that report`;
  }
  const accepted = new Set([subject.digest, ...(subject.platformDigests ?? [])].map((d) => d.toLowerCase()));
  if (recorded.some((d) => accepted.has(d))) return undefined;
  return `the Lading report is of another image (${of}), not ${subject.name}@${subject.digest}`;
}

/** The manifest digests a report records for its image: `target.digest` and those in `repoTags` (`name@sha256:…`). */
export function reportImageDigests(report: Report): string[] {
  const target = report.target as Partial<Report['target']> | undefined;
  const digests = new Set<string>();
  if (typeof target?.digest === 'string') digests.add(target.digest.toLowerCase());
  for (const tag of Array.isArray(target?.repoTags) ? target.repoTags : []) {
    const m = typeof tag === 'string' ? /@(sha256:[0-9a-f]{64})$/i.exec(tag) : null;
    if (m) digests.add(m[1]!.toLowerCase());
  }
  return [...digests];
}
