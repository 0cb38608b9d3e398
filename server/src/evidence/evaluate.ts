import type { KeyObject } from 'node:crypto';
import {
  type DsseEnvelope,
  envelopeFromJson,
  parseBundle,
  parsePublicKey,
  parseSignatureText,
  parseSimpleSigning,
  parseStatement,
  repositoryOf,
  SLSA_PROVENANCE_V1,
  type Statement,
  statementCovers,
  verifyBlob,
  verifyEnvelope,
} from '@lading/engine/attest';
import { describeError } from '@lading/engine/errors';
import { buildFactsOf, globMatches, normalizeRepository } from './build-facts.js';
import type {
  BuildFacts,
  CheckName,
  EvidenceArtifact,
  EvidenceCheck,
  EvidenceInput,
  EvidenceState,
  Scorecard,
  TrustedKey,
  VerificationPolicy,
} from './types.js';

const PROVENANCE_TYPES = new Set([SLSA_PROVENANCE_V1, 'https://slsa.dev/provenance/v0.2']);
const SBOM_PREDICATE_TYPES = new Set([
  'https://cyclonedx.org/bom',
  'https://spdx.dev/Document',
  'https://spdx.dev/Document/v2.3',
]);
/** The signature checks: one that fails means a signature is present but invalid (a tamper alert). */
const SIGNATURE_CHECKS = new Set<CheckName>(['provenance.signature', 'image.signature']);

/** An attestation as read before any key judged it. */
interface ReadAttestation {
  artifact: EvidenceArtifact;
  what: string;
  envelope?: DsseEnvelope;
  /** The statement as the payload claims it (unverified: used to know what the attestation is about). */
  claimed?: Statement;
  problem?: string;
}

/** An attestation a trusted key verified, with the statement parsed from the bytes as signed. */
interface VerifiedAttestation {
  read: ReadAttestation;
  statement: Statement;
  keyId: string;
}

/**
 * The evidence scorecard of one image (SERVER.md section 7, issue 17): pure, no I/O and no clock; the ingest job
 * writes its checks as `verifications` rows and its build facts as the `builds` row. Signatures are checked with
 * `@lading/engine/attest`, the same code as `lading verify-attestation` and `lading verify`.
 */
export function evaluateEvidence(
  input: EvidenceInput,
  policy: VerificationPolicy,
  trustedKeys: TrustedKey[],
): Scorecard {
  if (policy.mode === 'off') {
    const checks = ALL_CHECKS.map((check) => ({
      check,
      result: 'skipped' as const,
      detail: 'verification is off for this repository',
    }));
    return { state: 'none', score: 0, max: 0, checks, build: null, buildVerified: false };
  }
  const keys = usableKeys(trustedKeys, policy);
  // A Sigstore bundle that holds a message signature (`lading sign-blob --bundle`) signs some file, not a
  // statement about the image: it is no attestation, and no evidence either way.
  const attestations = input.attestations
    .filter((artifact) => !isMessageSignatureBundle(artifact))
    .map((artifact, i) => readAttestation(artifact, i));
  const provenances = attestations.filter((a) => a.claimed && PROVENANCE_TYPES.has(a.claimed.predicateType));
  const unreadable = attestations.filter((a) => !a.claimed);
  const verifiedProvenances: VerifiedAttestation[] = [];
  const provenanceFailures: string[] = [];
  for (const read of [...provenances, ...unreadable]) {
    const verified = verifyAttestation(read, keys);
    if (typeof verified === 'string') provenanceFailures.push(verified);
    else verifiedProvenances.push(verified);
  }

  const checks: EvidenceCheck[] = [];
  checks.push(...sbomChecks(input, attestations, keys));
  checks.push(scanCheck(input));

  // provenance.present: a provenance statement about this digest
  const covering = provenances.filter((a) => a.claimed && statementCovers(a.claimed, input.digest));
  if (provenances.length === 0) {
    checks.push(
      absent(
        'provenance.present',
        unreadable.length > 0 ? 'no readable provenance attestation' : 'no provenance attestation',
      ),
    );
  } else if (covering.length === 0) {
    checks.push(
      fail('provenance.present', `the provenance names other subjects, not ${input.digest}`, provenances[0]?.artifact),
    );
  } else {
    checks.push(
      pass('provenance.present', `SLSA provenance (${covering[0]?.claimed?.predicateType})`, covering[0]?.artifact),
    );
  }

  // provenance.signature: every provenance (and every attestation too damaged to tell) verified by a trusted key
  if (provenances.length === 0 && unreadable.length === 0) {
    checks.push(absent('provenance.signature', 'no provenance to verify'));
  } else if (keys.usable.length === 0) {
    checks.push(skipped('provenance.signature', keys.why));
  } else if (provenanceFailures.length > 0) {
    checks.push(
      fail(
        'provenance.signature',
        provenanceFailures.join('; '),
        [...provenances, ...unreadable].find((a) => !verifiedProvenances.some((v) => v.read === a))?.artifact,
      ),
    );
  } else {
    const first = verifiedProvenances[0];
    checks.push({
      ...pass('provenance.signature', `DSSE signature verified with trusted key ${first?.keyId}`, first?.read.artifact),
      ...(first ? { keyId: first.keyId } : {}),
    });
  }

  // The build facts: from a verified provenance about this digest when there is one
  const trusted = verifiedProvenances.find((v) => statementCovers(v.statement, input.digest));
  const factsSource = trusted?.statement ?? covering[0]?.claimed;
  const build =
    factsSource && factsSource.predicateType === SLSA_PROVENANCE_V1 ? buildFactsOf(factsSource.predicate) : null;
  // With trusted keys, facts from a provenance no key vouches for decide nothing.
  const judgeable = keys.usable.length === 0 || trusted !== undefined;
  checks.push(builderCheck(build, policy, judgeable, factsSource !== undefined, trusted?.read.artifact));
  checks.push(sourceCheck(build, policy, judgeable, factsSource !== undefined, trusted?.read.artifact));
  checks.push(imageSignatureCheck(input, keys));
  checks.push(linksCheck(input, factsSource, judgeable, trusted?.read.artifact));

  return { ...summarize(checks), checks, build, buildVerified: trusted !== undefined };
}

const ALL_CHECKS: readonly CheckName[] = [
  'sbom.present',
  'sbom.bound',
  'scan.present',
  'provenance.present',
  'provenance.signature',
  'provenance.builder',
  'provenance.source',
  'image.signature',
  'provenance.links',
];

function summarize(checks: EvidenceCheck[]): { state: EvidenceState; score: number; max: number } {
  const applying = checks.filter((c) => c.result !== 'skipped');
  const score = applying.filter((c) => c.result === 'pass').length;
  const max = applying.length;
  let state: EvidenceState;
  if (checks.some((c) => SIGNATURE_CHECKS.has(c.check) && c.result === 'fail')) state = 'failed';
  else if (applying.every((c) => c.result === 'absent')) state = 'none';
  else if (score === max) state = 'verified';
  else state = 'partial';
  return { state, score, max };
}

interface Keys {
  usable: { id: string; key: KeyObject }[];
  /** Why there are none, for a skipped check. */
  why: string;
}

function usableKeys(trustedKeys: TrustedKey[], policy: VerificationPolicy): Keys {
  const allowed = policy.keys && policy.keys.length > 0 ? new Set(policy.keys) : undefined;
  const usable: { id: string; key: KeyObject }[] = [];
  const unreadable: string[] = [];
  for (const trusted of trustedKeys) {
    if (allowed && !allowed.has(trusted.id)) continue;
    try {
      usable.push({ id: trusted.id, key: parsePublicKey(trusted.pem, `trusted key ${trusted.id}`) });
    } catch {
      unreadable.push(trusted.id);
    }
  }
  const why =
    unreadable.length > 0
      ? `no usable trusted key (unreadable: ${unreadable.join(', ')})`
      : 'no trusted key for this repository';
  return { usable, why };
}

function readAttestation(artifact: EvidenceArtifact, index: number): ReadAttestation {
  const what = `attestation ${index + 1} (sha256:${artifact.sha256.slice(0, 12)})`;
  const bytes = Buffer.from(artifact.bytes);
  try {
    const raw = JSON.parse(bytes.toString('utf8')) as Record<string, unknown> | null;
    const envelope =
      raw && typeof raw === 'object' && typeof raw['mediaType'] === 'string'
        ? envelopeOfBundle(bytes, what)
        : envelopeFromJson(raw, what);
    // Only to know what the attestation is about; what counts is parsed again from the verified bytes.
    const claimed = parseStatement(Buffer.from(envelope.payload, 'base64'), what);
    return { artifact, what, envelope, claimed };
  } catch (err) {
    return { artifact, what, problem: `${what}: unreadable (${describeError(err)})` };
  }
}

function isMessageSignatureBundle(artifact: EvidenceArtifact): boolean {
  try {
    const raw = JSON.parse(Buffer.from(artifact.bytes).toString('utf8')) as Record<string, unknown> | null;
    return (
      typeof raw?.['mediaType'] === 'string' &&
      raw['mediaType'].startsWith('application/vnd.dev.sigstore.bundle') &&
      typeof raw['messageSignature'] === 'object' &&
      raw['messageSignature'] !== null &&
      raw['dsseEnvelope'] === undefined
    );
  } catch {
    return false;
  }
}

function envelopeOfBundle(bytes: Buffer, what: string): DsseEnvelope {
  const bundle = parseBundle(bytes, what);
  return envelopeFromJson(bundle.dsseEnvelope, what);
}

/** The attestation verified by the first trusted key that signed it, or why none did. */
function verifyAttestation(read: ReadAttestation, keys: Keys): VerifiedAttestation | string {
  if (!read.envelope) return read.problem ?? `${read.what}: unreadable`;
  let last = '';
  for (const { id, key } of keys.usable) {
    try {
      const payload = verifyEnvelope(key, read.envelope, read.what);
      return { read, statement: parseStatement(payload, read.what), keyId: id };
    } catch (err) {
      last = describeError(err);
    }
  }
  return last || `${read.what}: no trusted key`;
}

function sbomChecks(input: EvidenceInput, attestations: ReadAttestation[], keys: Keys): EvidenceCheck[] {
  const sbomAttestations = attestations.filter((a) => a.claimed && SBOM_PREDICATE_TYPES.has(a.claimed.predicateType));
  if (input.sboms.length === 0 && sbomAttestations.length === 0) {
    return [absent('sbom.present', 'no SBOM'), absent('sbom.bound', 'no SBOM to bind')];
  }
  const present = pass(
    'sbom.present',
    describeSboms(input.sboms, sbomAttestations.length),
    input.sboms[0] ?? sbomAttestations[0]?.artifact,
  );
  // An SBOM attestation signed by a trusted key over this digest binds the SBOM to it.
  for (const a of sbomAttestations) {
    const verified = keys.usable.length > 0 ? verifyAttestation(a, keys) : undefined;
    if (verified && typeof verified !== 'string' && statementCovers(verified.statement, input.digest)) {
      return [
        present,
        { ...pass('sbom.bound', `an SBOM attestation over ${input.digest}`, a.artifact), keyId: verified.keyId },
      ];
    }
  }
  const hex = input.digest.replace(/^sha256:/, '');
  const named: string[] = [];
  for (const sbom of input.sboms) {
    const subject = sbomSubjectText(sbom.bytes);
    if (subject.includes(hex)) return [present, pass('sbom.bound', `the SBOM describes ${input.digest}`, sbom)];
    const other = /sha256(?::|%3A)([0-9a-f]{64})/i.exec(subject)?.[1];
    if (other) named.push(`sha256:${other}`);
  }
  const why =
    named.length > 0 ? `the SBOM describes ${named[0]}, not ${input.digest}` : `the SBOM does not name ${input.digest}`;
  return [present, fail('sbom.bound', why, input.sboms[0])];
}

function describeSboms(sboms: EvidenceArtifact[], attested: number): string {
  const parts: string[] = [];
  if (sboms.length > 0) parts.push(`${sboms.length} SBOM document${sboms.length === 1 ? '' : 's'}`);
  if (attested > 0) parts.push(`${attested} SBOM attestation${attested === 1 ? '' : 's'}`);
  return parts.join(' and ');
}

/**
 * The part of an SBOM that says what it describes: CycloneDX's `metadata.component`, SPDX's described packages
 * (documentDescribes, DESCRIBES relationships) and document name. A digest mentioned elsewhere (a layer, a file)
 * does not bind it.
 */
function sbomSubjectText(bytes: Uint8Array): string {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
  } catch {
    return '';
  }
  if (doc['bomFormat'] === 'CycloneDX') {
    const metadata = doc['metadata'] as Record<string, unknown> | undefined;
    return JSON.stringify(metadata?.['component'] ?? {});
  }
  const described = new Set<string>();
  if (Array.isArray(doc['documentDescribes']))
    for (const id of doc['documentDescribes']) if (typeof id === 'string') described.add(id);
  if (Array.isArray(doc['relationships'])) {
    for (const r of doc['relationships'] as Record<string, unknown>[]) {
      if (r?.['relationshipType'] === 'DESCRIBES' && typeof r['relatedSpdxElement'] === 'string')
        described.add(r['relatedSpdxElement']);
    }
  }
  const packages = Array.isArray(doc['packages']) ? (doc['packages'] as Record<string, unknown>[]) : [];
  const subjects = packages.filter((p) => typeof p?.['SPDXID'] === 'string' && described.has(p['SPDXID'] as string));
  return JSON.stringify([doc['name'] ?? '', subjects]);
}

function scanCheck(input: EvidenceInput): EvidenceCheck {
  if (input.reports.length === 0) return absent('scan.present', 'no scan report');
  const named: string[] = [];
  for (const report of input.reports) {
    const digests = reportDigests(report.bytes);
    if (digests.includes(input.digest)) return pass('scan.present', `a Lading report for ${input.digest}`, report);
    named.push(...digests.slice(0, 1));
  }
  return fail(
    'scan.present',
    named.length > 0 ? `the report is for ${named[0]}, not ${input.digest}` : 'the report names no image digest',
    input.reports[0],
  );
}

/** `target.digest` and the `@sha256:` digests of `target.repoTags`, as `lading attest` binds a report. */
function reportDigests(bytes: Uint8Array): string[] {
  try {
    const doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as {
      target?: { digest?: unknown; repoTags?: unknown };
    };
    const out: string[] = [];
    if (typeof doc.target?.digest === 'string') out.push(doc.target.digest);
    if (Array.isArray(doc.target?.repoTags)) {
      for (const tag of doc.target.repoTags) {
        const at = typeof tag === 'string' ? tag.lastIndexOf('@') : -1;
        if (at >= 0) out.push((tag as string).slice(at + 1));
      }
    }
    return out;
  } catch {
    return [];
  }
}

function builderCheck(
  build: BuildFacts | null,
  policy: VerificationPolicy,
  judgeable: boolean,
  hasProvenance: boolean,
  artifact: EvidenceArtifact | undefined,
): EvidenceCheck {
  if (!hasProvenance) return absent('provenance.builder', 'no provenance');
  const allowed = policy.allowedBuilders ?? [];
  if (allowed.length === 0) return skipped('provenance.builder', 'no builder allowlist for this repository');
  if (!judgeable)
    return skipped('provenance.builder', 'no provenance verified by a trusted key to read the builder from');
  const builder = build?.builderId;
  if (!builder) return fail('provenance.builder', 'the provenance names no builder', artifact);
  return allowed.some((p) => globMatches(p, builder))
    ? pass('provenance.builder', `builder ${builder} is allowed`, artifact)
    : fail('provenance.builder', `builder ${builder} is not allowed`, artifact);
}

function sourceCheck(
  build: BuildFacts | null,
  policy: VerificationPolicy,
  judgeable: boolean,
  hasProvenance: boolean,
  artifact: EvidenceArtifact | undefined,
): EvidenceCheck {
  if (!hasProvenance) return absent('provenance.source', 'no provenance');
  const repos = policy.sourceRepos ?? [];
  const refs = policy.refs ?? [];
  if (repos.length === 0 && refs.length === 0)
    return skipped('provenance.source', 'no source repository or ref rule for this repository');
  if (!judgeable)
    return skipped('provenance.source', 'no provenance verified by a trusted key to read the source from');
  const problems: string[] = [];
  if (repos.length > 0) {
    const repo = build?.sourceRepo;
    if (!repo) problems.push('the provenance names no source repository');
    else if (!repos.some((p) => globMatches(normalizeRepository(p), normalizeRepository(repo)))) {
      problems.push(`source ${repo} is not allowed`);
    }
  }
  if (refs.length > 0) {
    const ref = build?.sourceRef;
    if (!ref) problems.push('the provenance names no source ref');
    else if (!refs.some((p) => globMatches(p, ref))) problems.push(`ref ${ref} is not allowed`);
  }
  if (problems.length > 0) return fail('provenance.source', problems.join('; '), artifact);
  const said = [build?.sourceRepo, build?.sourceRef].filter(Boolean).join(' at ');
  return pass('provenance.source', `source ${said} is allowed`, artifact);
}

function imageSignatureCheck(input: EvidenceInput, keys: Keys): EvidenceCheck {
  if (input.signatures.length === 0) return absent('image.signature', 'no image signature');
  if (keys.usable.length === 0) return skipped('image.signature', keys.why);
  const problems: string[] = [];
  let good: { keyId: string; artifact: EvidenceArtifact } | undefined;
  input.signatures.forEach((artifact, i) => {
    const what = `signature ${i + 1} (sha256:${artifact.sha256.slice(0, 12)})`;
    const outcome = checkImageSignature(artifact, input, keys, what);
    if ('problem' in outcome) problems.push(outcome.problem);
    else good ??= { keyId: outcome.keyId, artifact };
  });
  // Any signature present but invalid is a tamper alert, even beside a valid one.
  if (problems.length > 0) return fail('image.signature', problems.join('; '), input.signatures[0]);
  if (!good) return fail('image.signature', 'no valid signature', input.signatures[0]);
  return {
    ...pass(
      'image.signature',
      `cosign signature of ${input.digest} verified with trusted key ${good.keyId}`,
      good.artifact,
    ),
    keyId: good.keyId,
  };
}

/** The id of the key that verified it, or what is wrong. */
function checkImageSignature(
  artifact: EvidenceArtifact,
  input: EvidenceInput,
  keys: Keys,
  what: string,
): { keyId: string } | { problem: string } {
  let payload: Buffer;
  let signature: Buffer;
  try {
    const doc = JSON.parse(Buffer.from(artifact.bytes).toString('utf8')) as { payload?: unknown; signature?: unknown };
    if (typeof doc.payload !== 'string' || typeof doc.signature !== 'string')
      return { problem: `${what}: not {payload, signature}` };
    payload = Buffer.from(doc.payload, 'base64');
    signature = parseSignatureText(Buffer.from(doc.signature), what);
  } catch (err) {
    return { problem: `${what}: unreadable (${describeError(err)})` };
  }
  let keyId: string | undefined;
  for (const { id, key } of keys.usable) {
    try {
      verifyBlob(key, payload, signature, what);
      keyId = id;
      break;
    } catch {
      // another trusted key may have signed it
    }
  }
  if (keyId === undefined)
    return {
      problem: `${what}: invalid signature (the payload or signature was changed, or no trusted key signed it)`,
    };
  try {
    const parsed = parseSimpleSigning(payload, what);
    const signed = parsed.critical.image['docker-manifest-digest'];
    if (signed !== input.digest) return { problem: `${what}: signed for ${signed}, not ${input.digest}` };
    const reference = parsed.critical.identity['docker-reference'];
    if (input.repository && repositoryOf(reference) !== repositoryOf(input.repository)) {
      return { problem: `${what}: signed for repository ${repositoryOf(reference)}, not ${input.repository}` };
    }
  } catch (err) {
    return { problem: describeError(err) };
  }
  return { keyId };
}

function linksCheck(
  input: EvidenceInput,
  provenance: Statement | undefined,
  judgeable: boolean,
  artifact: EvidenceArtifact | undefined,
): EvidenceCheck {
  if (!provenance) return absent('provenance.links', 'no provenance');
  const stored = [
    ...input.sboms.map((a) => ({ a, kind: 'SBOM' })),
    ...input.reports.map((a) => ({ a, kind: 'report' })),
  ];
  if (stored.length === 0) return skipped('provenance.links', 'no SBOM or report stored to compare');
  if (!judgeable) return skipped('provenance.links', 'no provenance verified by a trusted key to compare with');
  const byproducts = new Set<string>();
  const run = (provenance.predicate as { runDetails?: { byproducts?: unknown } } | null)?.runDetails;
  if (Array.isArray(run?.byproducts)) {
    for (const b of run.byproducts as { digest?: Record<string, unknown> }[]) {
      const sha = b?.digest?.['sha256'];
      if (typeof sha === 'string') byproducts.add(sha.toLowerCase());
    }
  }
  const missing = stored.filter(({ a }) => !byproducts.has(a.sha256));
  if (missing.length > 0) {
    const list = missing.map(({ a, kind }) => `${kind} sha256:${a.sha256.slice(0, 12)}`).join(', ');
    return fail(
      'provenance.links',
      `the provenance's byproducts do not include the stored ${list}`,
      missing[0]?.a ?? artifact,
    );
  }
  return pass(
    'provenance.links',
    `the provenance's byproducts hash the stored ${stored.length} SBOM/report file${stored.length === 1 ? '' : 's'}`,
    artifact,
  );
}

function check(
  check: CheckName,
  result: EvidenceCheck['result'],
  detail: string,
  artifact?: EvidenceArtifact,
): EvidenceCheck {
  return { check, result, detail, ...(artifact?.id !== undefined ? { artifactId: artifact.id } : {}) };
}
const pass = (c: CheckName, detail: string, artifact?: EvidenceArtifact) => check(c, 'pass', detail, artifact);
const fail = (c: CheckName, detail: string, artifact?: EvidenceArtifact) => check(c, 'fail', detail, artifact);
const absent = (c: CheckName, detail: string) => check(c, 'absent', detail);
const skipped = (c: CheckName, detail: string) => check(c, 'skipped', detail);
