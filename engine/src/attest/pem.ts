import { LadingError } from '../errors/lading-error.js';

export interface PemBlock {
  label: string;
  der: Buffer;
}

/** Key files are tiny; anything bigger is not a key and is refused before parsing. */
export const MAX_KEY_FILE_BYTES = 64 * 1024;

const BLOCK = /-----BEGIN ([A-Z0-9 ]{1,64})-----\r?\n([\s\S]*?)-----END \1-----/;

/** The first PEM block of a text; headers (RFC 1421 `Proc-Type:`) are not supported, as cosign does not write them. */
export function decodePem(text: string, source: string): PemBlock {
  if (text.length > MAX_KEY_FILE_BYTES) throw new LadingError('BAD_INPUT', `${source}: too large to be a key file`);
  const match = BLOCK.exec(text);
  if (!match) throw new LadingError('BAD_INPUT', `${source}: no PEM block found`);
  const body = (match[2] ?? '').replace(/\s+/g, '');
  if (body.includes(':') || !/^[A-Za-z0-9+/]*={0,2}$/.test(body)) {
    throw new LadingError('BAD_INPUT', `${source}: PEM block "${match[1]}" is not valid base64`);
  }
  return { label: match[1] ?? '', der: Buffer.from(body, 'base64') };
}

/** PEM with 64-column base64 lines and a trailing newline, as Go's encoding/pem writes it. */
export function encodePem(label: string, der: Buffer): string {
  const b64 = der.toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
