import type { KeyObject } from 'node:crypto';
import { LadingError } from '../errors/lading-error.js';
import { decodeBase64, signBytes, verifyBytes } from './signature.js';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** Envelopes carry SBOMs and scan reports; bigger than this is refused before decoding. */
export const MAX_ENVELOPE_BYTES = 64 * 1024 * 1024;

export interface DsseSignature {
  keyid: string;
  sig: string;
}

export interface DsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: DsseSignature[];
}

/** Pre-authentication encoding: `DSSEv1 SP LEN(type) SP type SP LEN(body) SP body`, lengths in bytes. */
export function pae(payloadType: string, body: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${type.length} `, 'ascii'),
    type,
    Buffer.from(` ${body.length} `, 'ascii'),
    body,
  ]);
}

/** Signs the exact payload bytes given; `keyid` stays empty as cosign writes it (it is not authenticated anyway). */
export function signEnvelope(key: KeyObject, payloadType: string, payload: Buffer, keyid = ''): DsseEnvelope {
  const sig = signBytes(key, pae(payloadType, payload));
  return { payloadType, payload: payload.toString('base64'), signatures: [{ keyid, sig: sig.toString('base64') }] };
}

/** Strict shape check of untrusted envelope JSON text. */
export function parseEnvelope(text: string | Buffer, source: string): DsseEnvelope {
  if (text.length > MAX_ENVELOPE_BYTES) throw new LadingError('BAD_INPUT', `${source}: DSSE envelope is too large`);
  let raw: unknown;
  try {
    raw = JSON.parse(typeof text === 'string' ? text : text.toString('utf8'));
  } catch {
    throw new LadingError('BAD_INPUT', `${source}: DSSE envelope is not JSON`);
  }
  return envelopeFromJson(raw, source);
}

export function envelopeFromJson(raw: unknown, source: string): DsseEnvelope {
  const e = raw as Record<string, unknown> | null;
  if (!e || typeof e !== 'object' || Array.isArray(e)) throw malformed(source, 'not an object');
  if (typeof e['payloadType'] !== 'string') throw malformed(source, 'payloadType must be a string');
  if (typeof e['payload'] !== 'string') throw malformed(source, 'payload must be a string');
  if (!Array.isArray(e['signatures']) || e['signatures'].length === 0) {
    throw malformed(source, 'signatures must be a non-empty array');
  }
  const signatures = e['signatures'].map((s: unknown) => {
    const sig = s as Record<string, unknown> | null;
    if (!sig || typeof sig !== 'object' || typeof sig['sig'] !== 'string') {
      throw malformed(source, 'every signature needs a "sig" string');
    }
    const keyid = sig['keyid'];
    if (keyid !== undefined && typeof keyid !== 'string') throw malformed(source, 'keyid must be a string');
    return { keyid: keyid ?? '', sig: sig['sig'] };
  });
  return { payloadType: e['payloadType'], payload: e['payload'], signatures };
}

/**
 * Verifies that at least one signature is by `key` and returns the payload bytes exactly as signed: callers must
 * parse these, never re-serialized JSON.
 */
export function verifyEnvelope(key: KeyObject, envelope: DsseEnvelope, what: string): Buffer {
  const payload = decodeBase64(envelope.payload);
  if (!payload) throw new LadingError('VERIFY_FAILED', `${what}: DSSE payload is not base64`);
  const signed = pae(envelope.payloadType, payload);
  for (const s of envelope.signatures) {
    const sig = decodeBase64(s.sig);
    if (sig && sig.length > 0 && verifyBytes(key, signed, sig)) return payload;
  }
  throw new LadingError(
    'VERIFY_FAILED',
    `${what}: no DSSE signature matches the key (payload or payloadType changed, or another key signed it)`,
  );
}

function malformed(source: string, why: string): LadingError {
  return new LadingError('VERIFY_FAILED', `${source}: malformed DSSE envelope: ${why}`);
}
