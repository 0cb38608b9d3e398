import type { KeyObject } from 'node:crypto';
import { LadingError } from '../errors/lading-error.js';
import { appendAttachment, readAttachmentLayers } from './attachments.js';
import { attachmentTag, descriptorFor, SIGNATURE_ANNOTATION } from './cosign-layout.js';
import type { ResolvedImage } from './image-target.js';
import type { AttachmentRegistry } from './registry-port.js';
import { decodeBase64, signBytes, verifyBytes } from './signature.js';
import {
  parseSimpleSigning,
  repositoryOf,
  SIMPLE_SIGNING_MEDIA_TYPE,
  type SimpleSigningPayload,
  simpleSigningPayload,
} from './simple-signing.js';

export interface SignImageResult {
  tag: string;
  added: boolean;
  payload: Buffer;
}

/**
 * Pushes a cosign signature for the resolved image. docker-reference is `repo:tag` when signed by tag (what
 * containers/image's default identity rule needs) and `repo` otherwise (cosign's form); cosign ignores it.
 */
export async function signImage(
  registry: AttachmentRegistry,
  image: ResolvedImage,
  key: KeyObject,
  annotations: Record<string, string>,
): Promise<SignImageResult> {
  const identity = image.byTag && image.reference.tag ? `${image.name}:${image.reference.tag}` : image.name;
  const payload = simpleSigningPayload(identity, image.digest, annotations);
  const signature = signBytes(key, payload).toString('base64');
  const layer = descriptorFor(SIMPLE_SIGNING_MEDIA_TYPE, payload, { [SIGNATURE_ANNOTATION]: signature });
  const result = await appendAttachment(registry, image.repo, image.digest, 'sig', payload, layer);
  return { tag: result.tag, added: result.added, payload };
}

/** Every valid signature's payload; VERIFY_FAILED naming each layer's problem when none is valid. */
export async function verifyImageSignatures(
  registry: AttachmentRegistry,
  image: ResolvedImage,
  key: KeyObject,
  requiredAnnotations: Record<string, string> = {},
): Promise<SimpleSigningPayload[]> {
  const tag = attachmentTag(image.digest, 'sig');
  const layers = await readAttachmentLayers(registry, image.repo, image.digest, 'sig', SIMPLE_SIGNING_MEDIA_TYPE);
  if (layers.length === 0)
    throw new LadingError('VERIFY_FAILED', `${image.name}@${image.digest}: no signatures found (${tag})`);
  const verified: SimpleSigningPayload[] = [];
  const problems: string[] = [];
  for (const layer of layers) {
    const what = `signature ${layer.descriptor.digest.slice(0, 19)}`;
    if (!layer.bytes) {
      problems.push(`${what}: ${layer.problem}`);
      continue;
    }
    try {
      verified.push(
        checkSignatureLayer(layer.bytes, layer.descriptor.annotations, key, image, requiredAnnotations, what),
      );
    } catch (err) {
      if (!(err instanceof LadingError)) throw err;
      problems.push(err.message);
    }
  }
  if (verified.length === 0) {
    throw new LadingError('VERIFY_FAILED', `${image.name}@${image.digest}: no valid signature: ${problems.join('; ')}`);
  }
  return verified;
}

function checkSignatureLayer(
  payload: Buffer,
  annotations: Record<string, string> | undefined,
  key: KeyObject,
  image: ResolvedImage,
  required: Record<string, string>,
  what: string,
): SimpleSigningPayload {
  const b64 = annotations?.[SIGNATURE_ANNOTATION];
  if (!b64) throw new LadingError('VERIFY_FAILED', `${what}: missing ${SIGNATURE_ANNOTATION} annotation`);
  const sig = decodeBase64(b64);
  if (!sig || !verifyBytes(key, payload, sig)) {
    throw new LadingError('VERIFY_FAILED', `${what}: signature does not match the payload and key`);
  }
  const parsed = parseSimpleSigning(payload, what);
  const signedDigest = parsed.critical.image['docker-manifest-digest'];
  if (signedDigest !== image.digest) {
    throw new LadingError('VERIFY_FAILED', `${what}: signed for digest ${signedDigest}, not ${image.digest}`);
  }
  const signedRepo = repositoryOf(parsed.critical.identity['docker-reference']);
  if (signedRepo !== image.name) {
    throw new LadingError('VERIFY_FAILED', `${what}: signed for repository ${signedRepo}, not ${image.name}`);
  }
  for (const [k, v] of Object.entries(required)) {
    if (parsed.optional?.[k] !== v)
      throw new LadingError('VERIFY_FAILED', `${what}: annotation ${k}=${v} is not signed`);
  }
  return parsed;
}
