// OpenPGP signature verification for apt's InRelease (RFC 4880 / RFC 9580 v4 packets), on node:crypto: public keys
// (RSA, and EdDSA over Ed25519 as GnuPG writes it) read from binary or armored keyrings, one-pass clearsigned text
// verified against them. Only what an apt repository signature needs: no encryption, no key certification checks
// beyond what the keyring file holds (the image's own keyring is the trust anchor, as it is for apt's gpgv).
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { LadingError } from '../errors/lading-error.js';

export interface PublicKey {
  /** 40 hex digits (v4: SHA-1 over the key packet). */
  fingerprint: string;
  /** The last 16 hex digits of the fingerprint. */
  keyId: string;
  algorithm: 'rsa' | 'ed25519';
  key: KeyObject;
}

const ALGO_RSA = new Set([1, 3]);
const ALGO_EDDSA_LEGACY = 22;
const ALGO_ED25519 = 27;
/** 1.3.6.1.4.1.11591.15.1 as DER without tag and length: the curve GnuPG's EdDSA keys name. */
const ED25519_OID = Buffer.from('2b06010401da470f01', 'hex');
const HASHES: Record<number, string> = { 2: 'sha1', 8: 'sha256', 9: 'sha384', 10: 'sha512', 11: 'sha224' };

function bad(message: string): LadingError {
  return new LadingError('DIGEST_MISMATCH', message);
}

interface Packet {
  tag: number;
  body: Buffer;
}

/** Packets of a binary OpenPGP message, old and new header formats. */
export function parsePackets(data: Buffer, what: string): Packet[] {
  const packets: Packet[] = [];
  let at = 0;
  while (at < data.length) {
    const first = data[at] as number;
    if ((first & 0x80) === 0) throw bad(`${what}: not OpenPGP data (byte ${at})`);
    let tag: number;
    let length: number;
    at++;
    if (first & 0x40) {
      tag = first & 0x3f;
      const o = data[at];
      if (o === undefined) throw bad(`${what}: truncated packet header`);
      if (o < 192) {
        length = o;
        at += 1;
      } else if (o < 224) {
        length = ((o - 192) << 8) + (data[at + 1] ?? 0) + 192;
        at += 2;
      } else if (o === 255) {
        length = data.readUInt32BE(at + 1);
        at += 5;
      } else {
        throw bad(`${what}: partial-length packets are not used by keys or signatures`);
      }
    } else {
      tag = (first >> 2) & 0x0f;
      const type = first & 3;
      if (type === 0) {
        length = data[at] ?? 0;
        at += 1;
      } else if (type === 1) {
        length = data.readUInt16BE(at);
        at += 2;
      } else if (type === 2) {
        length = data.readUInt32BE(at);
        at += 4;
      } else {
        length = data.length - at;
      }
    }
    if (at + length > data.length) throw bad(`${what}: truncated packet (tag ${tag})`);
    packets.push({ tag, body: data.subarray(at, at + length) });
    at += length;
  }
  return packets;
}

/** An MPI at `at`: its value's bytes (no leading zeros) and where the next field starts. */
function mpi(body: Buffer, at: number, what: string): { value: Buffer; next: number } {
  if (at + 2 > body.length) throw bad(`${what}: truncated number`);
  const bits = body.readUInt16BE(at);
  const bytes = Math.ceil(bits / 8);
  if (at + 2 + bytes > body.length) throw bad(`${what}: truncated number`);
  return { value: body.subarray(at + 2, at + 2 + bytes), next: at + 2 + bytes };
}

function b64url(buf: Buffer): string {
  return buf.toString('base64url');
}

/** A v4 public key or subkey packet as a verifying key, or undefined for algorithms apt repositories do not use. */
function keyFromPacket(body: Buffer, what: string): PublicKey | undefined {
  if (body[0] !== 4) return undefined;
  const algo = body[5] as number;
  let key: KeyObject;
  let algorithm: PublicKey['algorithm'];
  if (ALGO_RSA.has(algo)) {
    const n = mpi(body, 6, what);
    const e = mpi(body, n.next, what);
    key = createPublicKey({ key: { kty: 'RSA', n: b64url(n.value), e: b64url(e.value) }, format: 'jwk' });
    algorithm = 'rsa';
  } else if (algo === ALGO_EDDSA_LEGACY) {
    const oidLength = body[6] as number;
    const oid = body.subarray(7, 7 + oidLength);
    if (!oid.equals(ED25519_OID)) return undefined;
    const point = mpi(body, 7 + oidLength, what).value;
    // 0x40 marks the native (compressed) point encoding.
    if (point.length !== 33 || point[0] !== 0x40) throw bad(`${what}: malformed Ed25519 key`);
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(point.subarray(1)) }, format: 'jwk' });
    algorithm = 'ed25519';
  } else if (algo === ALGO_ED25519) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(body.subarray(6, 38)) }, format: 'jwk' });
    algorithm = 'ed25519';
  } else {
    return undefined;
  }
  const header = Buffer.from([0x99, body.length >> 8, body.length & 0xff]);
  const fingerprint = createHash('sha1').update(header).update(body).digest('hex').toUpperCase();
  return { fingerprint, keyId: fingerprint.slice(-16), algorithm, key };
}

/** Text between `-----BEGIN PGP <kind>-----` and its END line, base64-decoded (the CRC line is not needed). */
export function dearmor(text: string, what: string): Buffer {
  const lines = text.split(/\r?\n/);
  const begin = lines.findIndex((l) => /^-----BEGIN PGP [A-Z ]+-----$/.test(l.trim()));
  if (begin < 0) throw bad(`${what}: no armored OpenPGP block`);
  let i = begin + 1;
  // armor headers (Version:, Comment:, …) end at the first empty line
  while (i < lines.length && (lines[i] as string).trim() !== '') {
    if (!(lines[i] as string).includes(':')) break;
    i++;
  }
  const body: string[] = [];
  for (; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line.startsWith('-----END PGP')) return Buffer.from(body.join(''), 'base64');
    if (line.startsWith('=') || line === '') continue;
    body.push(line);
  }
  throw bad(`${what}: armored OpenPGP block has no END line`);
}

/** The keys of a keyring file (`.gpg` binary or `.asc` armored): primary keys and subkeys. */
export function readKeyring(data: Buffer, what: string): PublicKey[] {
  const text = data.subarray(0, 64).toString('latin1');
  const binary = text.includes('-----BEGIN PGP') ? dearmor(data.toString('latin1'), what) : data;
  const keys: PublicKey[] = [];
  for (const packet of parsePackets(binary, what)) {
    if (packet.tag !== 6 && packet.tag !== 14) continue;
    const key = keyFromPacket(packet.body, what);
    if (key) keys.push(key);
  }
  return keys;
}

interface Signature {
  type: number;
  algo: number;
  hash: string;
  /** The bytes the hash covers after the message: version … hashed subpackets, then the v4 trailer. */
  trailer: Buffer;
  left16: Buffer;
  issuers: string[];
  values: Buffer[];
}

function parseSignature(body: Buffer, what: string): Signature | undefined {
  if (body[0] !== 4) return undefined;
  const type = body[1] as number;
  const algo = body[2] as number;
  const hash = HASHES[body[3] as number];
  if (!hash) return undefined;
  const hashedLength = body.readUInt16BE(4);
  const hashedEnd = 6 + hashedLength;
  if (hashedEnd + 2 > body.length) throw bad(`${what}: truncated signature`);
  const unhashedLength = body.readUInt16BE(hashedEnd);
  const unhashedEnd = hashedEnd + 2 + unhashedLength;
  if (unhashedEnd + 2 > body.length) throw bad(`${what}: truncated signature`);
  const issuers: string[] = [];
  for (const [start, end] of [
    [6, hashedEnd],
    [hashedEnd + 2, unhashedEnd],
  ] as const) {
    for (let at = start; at < end; ) {
      let len = body[at] as number;
      at++;
      if (len >= 192 && len < 255) {
        len = ((len - 192) << 8) + (body[at] as number) + 192;
        at++;
      } else if (len === 255) {
        len = body.readUInt32BE(at);
        at += 4;
      }
      const subType = (body[at] as number) & 0x7f;
      const data = body.subarray(at + 1, at + len);
      if (subType === 16) issuers.push(data.toString('hex').toUpperCase());
      if (subType === 33 && data[0] === 4) issuers.push(data.subarray(1).toString('hex').toUpperCase());
      at += len;
    }
  }
  const hashed = body.subarray(0, hashedEnd);
  const final = Buffer.alloc(6);
  final[0] = 4;
  final[1] = 0xff;
  final.writeUInt32BE(hashed.length, 2);
  const left16 = body.subarray(unhashedEnd, unhashedEnd + 2);
  const values: Buffer[] = [];
  for (let at = unhashedEnd + 2; at < body.length; ) {
    const m = mpi(body, at, what);
    values.push(m.value);
    at = m.next;
  }
  return { type, algo, hash, trailer: Buffer.concat([hashed, final]), left16, issuers, values };
}

function leftPad(value: Buffer, size: number): Buffer {
  if (value.length >= size) return value;
  return Buffer.concat([Buffer.alloc(size - value.length), value]);
}

function verifies(sig: Signature, key: PublicKey, message: Buffer): boolean {
  const digest = createHash(sig.hash).update(message).update(sig.trailer).digest();
  if (!digest.subarray(0, 2).equals(sig.left16)) return false;
  if (key.algorithm === 'rsa' && ALGO_RSA.has(sig.algo)) {
    const value = sig.values[0];
    if (!value) return false;
    // An MPI drops leading zero bytes, but OpenSSL takes an RSA signature only at the modulus' full length: about
    // one signature in 256 starts with a zero byte and would otherwise be refused.
    const modulusBytes = Math.ceil((key.key.asymmetricKeyDetails?.modulusLength ?? value.length * 8) / 8);
    return verify(sig.hash, Buffer.concat([message, sig.trailer]), key.key, leftPad(value, modulusBytes));
  }
  if (key.algorithm === 'ed25519' && (sig.algo === ALGO_EDDSA_LEGACY || sig.algo === ALGO_ED25519)) {
    const [r, s] = sig.values;
    if (!r || !s) return false;
    return verify(null, digest, key.key, Buffer.concat([leftPad(r, 32), leftPad(s, 32)]));
  }
  return false;
}

/** Canonical text (signature type 0x01): CRLF line ends, trailing blanks removed, no final line end. */
function canonicalText(lines: string[]): Buffer {
  return Buffer.from(lines.map((l) => l.replace(/[ \t\r]+$/, '')).join('\r\n'), 'utf8');
}

export interface VerifiedText {
  /** The signed text (dash-escaping undone, `\n` line ends). */
  text: string;
  /** Fingerprint of the key whose signature verified. */
  signer: string;
}

/**
 * Verifies a clearsigned document (`InRelease`) against `keys`: at least one signature must be by one of them and
 * verify; anything else (no signature, unknown signer only, a bad signature, a malformed document) throws
 * DIGEST_MISMATCH naming `what`.
 */
export function verifyClearsigned(document: string, keys: PublicKey[], what: string): VerifiedText {
  const lines = document.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const begin = lines.indexOf('-----BEGIN PGP SIGNED MESSAGE-----');
  if (begin < 0) throw bad(`${what}: not a clearsigned document`);
  let i = begin + 1;
  while (i < lines.length && lines[i] !== '') i++;
  i++;
  const signed: string[] = [];
  for (; i < lines.length && lines[i] !== '-----BEGIN PGP SIGNATURE-----'; i++) {
    const line = lines[i] as string;
    if (line.startsWith('-----')) throw bad(`${what}: unexpected armor line in the signed text`);
    signed.push(line.startsWith('- ') ? line.slice(2) : line);
  }
  if (i >= lines.length) throw bad(`${what}: no signature after the signed text`);
  const signatureBlock = lines.slice(i).join('\n');
  const packets = parsePackets(dearmor(signatureBlock, what), what);
  const message = canonicalText(signed);
  const byId = new Map<string, PublicKey>();
  for (const key of keys) {
    byId.set(key.keyId, key);
    byId.set(key.fingerprint, key);
  }
  let known = 0;
  for (const packet of packets) {
    if (packet.tag !== 2) continue;
    const sig = parseSignature(packet.body, what);
    if (sig?.type !== 0x01) continue;
    const key = sig.issuers.map((id) => byId.get(id)).find((k) => k !== undefined);
    if (!key) continue;
    known++;
    if (verifies(sig, key, message)) return { text: `${signed.join('\n')}\n`, signer: key.fingerprint };
  }
  if (known === 0) throw bad(`${what}: no signature by a key in the trusted keyrings`);
  throw bad(`${what}: the signature does not verify (the document was changed or the key is wrong)`);
}

/**
 * Verifies a detached signature over binary data (signature type 0x00: an RPM header's signature, a
 * `repomd.xml.asc`): the packets of `signature` (binary, or armored when it starts with an armor line).
 */
export function verifyDetached(data: Buffer, signature: Buffer, keys: PublicKey[], what: string): string {
  const binary = signature.subarray(0, 32).toString('latin1').includes('-----BEGIN PGP')
    ? dearmor(signature.toString('latin1'), what)
    : signature;
  const byId = new Map<string, PublicKey>();
  for (const key of keys) {
    byId.set(key.keyId, key);
    byId.set(key.fingerprint, key);
  }
  let known = 0;
  for (const packet of parsePackets(binary, what)) {
    if (packet.tag !== 2) continue;
    const sig = parseSignature(packet.body, what);
    if (sig?.type !== 0x00) continue;
    const key = sig.issuers.map((id) => byId.get(id)).find((k) => k !== undefined);
    if (!key) continue;
    known++;
    if (verifies(sig, key, data)) return key.fingerprint;
  }
  if (known === 0) throw bad(`${what}: no signature by a key in the trusted keyrings`);
  throw bad(`${what}: the signature does not verify (the data was changed or the key is wrong)`);
}
