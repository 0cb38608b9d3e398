// The `ar` archive a `.deb` is: an 8-byte magic, then members with 60-byte headers, each padded to an even size.
import { LadingError } from '../errors/lading-error.js';

const MAGIC = '!<arch>\n';

export interface ArMember {
  name: string;
  data: Buffer;
}

export function readAr(archive: Buffer, what: string): ArMember[] {
  if (archive.subarray(0, 8).toString('latin1') !== MAGIC)
    throw new LadingError('BAD_INPUT', `${what}: not an ar archive`);
  const members: ArMember[] = [];
  let at = 8;
  while (at < archive.length) {
    if (at + 60 > archive.length) throw new LadingError('BAD_INPUT', `${what}: truncated ar member header`);
    const header = archive.subarray(at, at + 60);
    if (header[58] !== 0x60 || header[59] !== 0x0a)
      throw new LadingError('BAD_INPUT', `${what}: corrupt ar member header`);
    const name = header.subarray(0, 16).toString('latin1').trim().replace(/\/$/, '');
    const sizeText = header.subarray(48, 58).toString('latin1').trim();
    if (!/^\d+$/.test(sizeText)) throw new LadingError('BAD_INPUT', `${what}: corrupt ar member size`);
    const size = Number(sizeText);
    const start = at + 60;
    if (start + size > archive.length) throw new LadingError('BAD_INPUT', `${what}: truncated ar member ${name}`);
    members.push({ name, data: archive.subarray(start, start + size) });
    at = start + size + (size % 2);
  }
  return members;
}
