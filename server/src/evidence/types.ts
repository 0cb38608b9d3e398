/** One stored artifact as the scorecard sees it: its bytes, their SHA-256 and (when stored) its `artifacts` row. */
export interface EvidenceArtifact {
  /** The `artifacts` row, carried into the checks that judged this artifact (`verifications.artifact_id`). */
  id?: number;
  /** Hex SHA-256 of `bytes` (the blob store's key). */
  sha256: string;
  bytes: Uint8Array;
}

/** Everything known about one image's evidence. */
export interface EvidenceInput {
  /** The image's manifest digest, `sha256:<hex>`. */
  digest: string;
  /** The repository it was ingested for (`registry.example/acme/api`), for the signature's docker-reference. */
  repository?: string;
  /** CycloneDX or SPDX JSON documents. */
  sboms: EvidenceArtifact[];
  /** Lading JSON reports. */
  reports: EvidenceArtifact[];
  /** DSSE envelopes or Sigstore bundles holding one (in-toto statements: provenance, SBOM predicates, …). */
  attestations: EvidenceArtifact[];
  /** cosign simple-signing signatures as `{payload, signature}` JSON (both base64). */
  signatures: EvidenceArtifact[];
}

/** A repository's verification policy (SERVER.md section 7). */
export interface VerificationPolicy {
  /** off: nothing is judged (every check skipped); warn and enforce judge alike, the job decides what follows. */
  mode: 'off' | 'warn' | 'enforce';
  /** Only these trusted keys count (by id); default every trusted key given. */
  keys?: readonly string[];
  /** Builder ids allowed (`*` matches any run of characters); none given: the builder check is skipped. */
  allowedBuilders?: readonly string[];
  /** Source repositories allowed (`https://github.com/acme/api`; `*` globs); none given: not checked. */
  sourceRepos?: readonly string[];
  /** Source refs allowed (`refs/heads/main`, `refs/tags/*`); none given: not checked. */
  refs?: readonly string[];
}

/** A public key the server trusts for this repository (already narrowed to it by the caller). */
export interface TrustedKey {
  id: string;
  /** PEM `PUBLIC KEY` (ECDSA P-256/384/521, RSA, Ed25519), as cosign writes it. */
  pem: string;
}

export const CHECK_NAMES = [
  'sbom.present',
  'sbom.bound',
  'scan.present',
  'provenance.present',
  'provenance.signature',
  'provenance.builder',
  'provenance.source',
  'image.signature',
  'provenance.links',
] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

export type CheckResult = 'pass' | 'fail' | 'absent' | 'skipped';

/** One `verifications` row. */
export interface EvidenceCheck {
  check: CheckName;
  result: CheckResult;
  /** Why, in one line. */
  detail: string;
  /** The trusted key that verified a signature. */
  keyId?: string;
  /** The artifact the check judged, when one decided it. */
  artifactId?: number;
}

/** What the provenance says about the build (the `builds` row). */
export interface BuildFacts {
  builderId: string | null;
  buildType: string | null;
  sourceRepo: string | null;
  sourceCommit: string | null;
  sourceRef: string | null;
  workflowPath: string | null;
  runId: string | null;
  runUrl: string | null;
  /** Epoch ms. */
  startedAt: number | null;
  finishedAt: number | null;
}

export type EvidenceState = 'verified' | 'partial' | 'failed' | 'none';

export interface Scorecard {
  /**
   * verified: every check that applies passes; failed: a signature is present but invalid (a tamper alert);
   * none: no evidence at all; partial: anything else.
   */
  state: EvidenceState;
  /** Checks passed. */
  score: number;
  /** Checks that apply (not skipped). */
  max: number;
  checks: EvidenceCheck[];
  /** From the provenance that verified (else the first readable one); null without provenance. */
  build: BuildFacts | null;
  /** Whether `build` comes from a provenance whose signature verified with a trusted key. */
  buildVerified: boolean;
}
