import type { KeyObject } from 'node:crypto';
import { LadingError } from '../errors/lading-error.js';
import { documentKind, parseImageIndex } from '../oci/manifest.js';
import { appendAttachment, readAttachmentLayers } from './attachments.js';
import {
  attachmentTag,
  DSSE_MEDIA_TYPE,
  descriptorFor,
  PREDICATE_TYPE_ANNOTATION,
  SIGNATURE_ANNOTATION,
} from './cosign-layout.js';
import { type DsseEnvelope, IN_TOTO_PAYLOAD_TYPE, parseEnvelope, signEnvelope, verifyEnvelope } from './dsse.js';
import type { ResolvedImage } from './image-target.js';
import { checkPredicate, isCheckedPredicateType } from './predicate-check.js';
import { PREDICATE_TYPES } from './predicate-types.js';
import type { AttachmentRegistry } from './registry-port.js';
import type { AttestationSubject } from './report-binding.js';
import { buildStatement, parseStatement, type Statement, statementCovers } from './statement.js';

export interface AttestResult {
  tag: string;
  added: boolean;
  envelope: DsseEnvelope;
  statement: Buffer;
}

/**
 * Signs an in-toto Statement about the image and stores the DSSE envelope as cosign does (`.att` tag). The predicate
 * is checked first (`checkPredicate`): a document that is not what its type says (BAD_INPUT), or a Lading report of
 * another image (DIGEST_MISMATCH), is refused before anything is signed or pushed.
 */
export async function attestImage(
  registry: AttachmentRegistry,
  image: ResolvedImage,
  key: KeyObject,
  predicateType: string,
  predicate: unknown,
  options: { replace?: boolean; predicateSource?: string } = {},
): Promise<AttestResult> {
  if (isCheckedPredicateType(predicateType)) {
    const subject =
      predicateType === PREDICATE_TYPES['lading-report']
        ? await attestationSubject(registry, image)
        : { name: image.name, digest: image.digest };
    await checkPredicate(predicateType, predicate, subject, options.predicateSource);
  }
  const statement = Buffer.from(
    JSON.stringify(
      buildStatement(
        [{ name: image.name, digest: { sha256: image.digest.replace(/^sha256:/, '') } }],
        predicateType,
        predicate,
      ),
    ),
  );
  const envelope = signEnvelope(key, IN_TOTO_PAYLOAD_TYPE, statement);
  const layerBytes = Buffer.from(JSON.stringify(envelope));
  const layer = descriptorFor(DSSE_MEDIA_TYPE, layerBytes, {
    [SIGNATURE_ANNOTATION]: '',
    [PREDICATE_TYPE_ANNOTATION]: predicateType,
  });
  const replace = options.replace
    ? (l: { annotations?: Record<string, string> }) => l.annotations?.[PREDICATE_TYPE_ANNOTATION] === predicateType
    : undefined;
  const result = await appendAttachment(registry, image.repo, image.digest, 'att', layerBytes, layer, replace);
  return { tag: result.tag, added: result.added, envelope, statement };
}

/**
 * A later check over verified statements (the `--policy` issue plugs in here); it throws VERIFY_FAILED or
 * GATE_FAILED with its reason.
 */
export type StatementCheck = (statements: Statement[]) => Promise<void> | void;

/** Statements whose envelope is signed by `key`, cover the image digest and (when given) have `predicateType`. */
export async function verifyImageAttestations(
  registry: AttachmentRegistry,
  image: ResolvedImage,
  key: KeyObject,
  predicateType?: string,
  check?: StatementCheck,
): Promise<Statement[]> {
  const tag = attachmentTag(image.digest, 'att');
  const layers = await readAttachmentLayers(registry, image.repo, image.digest, 'att', DSSE_MEDIA_TYPE);
  if (layers.length === 0)
    throw new LadingError('VERIFY_FAILED', `${image.name}@${image.digest}: no attestations found (${tag})`);
  const verified: Statement[] = [];
  const problems: string[] = [];
  for (const layer of layers) {
    const what = `attestation ${layer.descriptor.digest.slice(0, 19)}`;
    try {
      if (!layer.bytes) throw new LadingError('VERIFY_FAILED', `${what}: ${layer.problem}`);
      const envelope = parseEnvelope(layer.bytes, what);
      if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
        throw new LadingError('VERIFY_FAILED', `${what}: payloadType ${envelope.payloadType} is not in-toto`);
      }
      const statement = parseStatement(verifyEnvelope(key, envelope, what), what);
      if (!statementCovers(statement, image.digest)) {
        throw new LadingError('VERIFY_FAILED', `${what}: no subject has digest ${image.digest}`);
      }
      if (predicateType && statement.predicateType !== predicateType) {
        problems.push(`${what}: predicate type ${statement.predicateType}, not ${predicateType}`);
        continue;
      }
      verified.push(statement);
    } catch (err) {
      if (!(err instanceof LadingError)) throw err;
      problems.push(err.message);
    }
  }
  if (verified.length === 0) {
    throw new LadingError(
      'VERIFY_FAILED',
      `${image.name}@${image.digest}: no valid attestation: ${problems.join('; ')}`,
    );
  }
  if (check) await check(verified);
  return verified;
}

/**
 * The image as a statement subject: its digest and, when it is an index (a multi-platform image), the digests of the
 * manifests it lists, since a scan reads one platform's manifest and records that digest.
 */
export async function attestationSubject(
  registry: AttachmentRegistry,
  image: ResolvedImage,
): Promise<AttestationSubject> {
  const subject = { name: image.name, digest: image.digest };
  const manifest = await registry.fetchManifest(image.repo, image.digest);
  if (!manifest) return subject;
  const what = `${image.name}@${image.digest}`;
  if (documentKind(manifest.bytes, what, manifest.mediaType) !== 'index') return subject;
  return { ...subject, platformDigests: parseImageIndex(manifest.bytes, what).manifests.map((m) => m.digest) };
}
