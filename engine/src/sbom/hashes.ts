import type { Hash } from '../model/package.js';

const HEX_LENGTH: Readonly<Record<string, number>> = {
  MD5: 32,
  'SHA-1': 40,
  'SHA-256': 64,
  'SHA-384': 96,
  'SHA-512': 128,
  'SHA3-256': 64,
  'SHA3-384': 96,
  'SHA3-512': 128,
  'BLAKE2b-256': 64,
  'BLAKE2b-384': 96,
  'BLAKE2b-512': 128,
  BLAKE3: 64,
};

/** A hash with a known algorithm, its content as lower-case hex (npm's base64 integrity converted); else undefined. */
export function normalizeHash(hash: Hash): { alg: string; content: string } | undefined {
  const alg = canonicalAlg(hash.alg);
  if (!alg) return undefined;
  const length = HEX_LENGTH[alg] as number;
  const content = hash.content.trim();
  if (content.length === length && /^[0-9a-fA-F]+$/.test(content)) return { alg, content: content.toLowerCase() };
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(content)) {
    const hex = Buffer.from(content, 'base64').toString('hex');
    if (hex.length === length) return { alg, content: hex };
  }
  return undefined;
}

function canonicalAlg(alg: string): string | undefined {
  const wanted = alg.toUpperCase().replace(/_/g, '-');
  for (const known of Object.keys(HEX_LENGTH)) {
    if (known.toUpperCase() === wanted || known.replace('-', '').toUpperCase() === wanted) return known;
  }
  return undefined;
}

/** CycloneDX algorithm names and their SPDX 2.2/2.3 checksum algorithm names, one table for both directions. */
const CDX_TO_SPDX_ALG: ReadonlyMap<string, string> = new Map([
  ['MD5', 'MD5'],
  ['SHA-1', 'SHA1'],
  ['SHA-256', 'SHA256'],
  ['SHA-384', 'SHA384'],
  ['SHA-512', 'SHA512'],
  ['SHA3-256', 'SHA3-256'],
  ['SHA3-384', 'SHA3-384'],
  ['SHA3-512', 'SHA3-512'],
  ['BLAKE2b-256', 'BLAKE2b-256'],
  ['BLAKE2b-384', 'BLAKE2b-384'],
  ['BLAKE2b-512', 'BLAKE2b-512'],
  ['BLAKE3', 'BLAKE3'],
]);
const SPDX_TO_CDX_ALG: ReadonlyMap<string, string> = new Map([...CDX_TO_SPDX_ALG].map(([cdx, spdx]) => [spdx, cdx]));

/** CycloneDX algorithm name → SPDX checksum algorithm. */
export function spdxChecksumAlgorithm(alg: string): string | undefined {
  return CDX_TO_SPDX_ALG.get(alg);
}

/** SPDX checksum algorithm → CycloneDX algorithm name. */
export function cyclonedxHashAlgorithm(spdxAlg: string): string | undefined {
  return SPDX_TO_CDX_ALG.get(spdxAlg);
}
