// A `.deb` read in memory: `ar` members `debian-binary`, `control.tar[.gz|.xz|.zst]`, `data.tar[…]`. What patching
// needs of it: the control fields, the maintainer scripts and triggers (which decide whether it may be unpacked
// without running anything), conffiles, md5sums and the other `info/` files, and the data entries.
import { gunzipSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import { LadingError } from '../errors/lading-error.js';
import { readAr } from './ar.js';
import { parseStanzas, type Stanza } from './control.js';
import { readTar, type TarItem } from './tar.js';

/** Maintainer scripts dpkg would run: a package with any of them is not unpacked without running it. */
export const MAINTAINER_SCRIPTS = ['preinst', 'postinst', 'prerm', 'postrm', 'config'];
/** Triggers an unpack may skip: library packages keep their sonames, so the existing ld.so.cache stays valid. */
const HARMLESS_TRIGGERS = new Set(['activate-noawait ldconfig']);

export interface DebPackage {
  control: Stanza;
  /** Maintainer scripts present in control.tar. */
  scripts: string[];
  /** Trigger directives (`activate-noawait ldconfig`), comment lines dropped. */
  triggers: string[];
  /** Triggers that would need running something. */
  unsafeTriggers: string[];
  conffiles: string[];
  /** control.tar's other members that dpkg keeps in `info/` (md5sums, shlibs, symbols, triggers, conffiles…). */
  infoFiles: Map<string, Buffer>;
  data: TarItem[];
}

/** Decompresses a member by its name's suffix, refusing output over `maxBytes`. */
async function inflate(name: string, data: Buffer, maxBytes: number, what: string): Promise<Buffer> {
  const base = name.replace(/^(control|data)\.tar/, '');
  try {
    if (base === '') return data;
    // xz is what Debian and Ubuntu build their packages' data.tar with.
    if (base === '.xz') return await inflateXz(data, maxBytes, `${what}: ${name}`);
    if (base === '.gz') return gunzipSync(data, { maxOutputLength: maxBytes });
    if (base === '.zst') {
      const out = Buffer.from(zstdDecompress(data));
      if (out.length > maxBytes)
        throw new LadingError('LIMIT', `${what}: ${name} inflates to more than ${maxBytes} bytes`);
      return out;
    }
  } catch (err) {
    if (err instanceof LadingError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new LadingError('LIMIT', `${what}: ${name} inflates to more than ${maxBytes} bytes`);
    }
    throw new LadingError('BAD_INPUT', `${what}: ${name} is corrupt`, { cause: err });
  }
  throw new LadingError('BAD_INPUT', `${what}: ${name} uses a compression Lading does not read (${base.slice(1)})`);
}

/**
 * xz through xz-decompress (xz-embedded compiled to WebAssembly: no native addon), read as a stream so that the
 * output cap stops an inflate bomb before it is held in memory; loaded only when a package needs it.
 */
async function inflateXz(data: Buffer, maxBytes: number, what: string): Promise<Buffer> {
  const { XzReadableStream } = await import('xz-decompress');
  const reader = new XzReadableStream(new Blob([new Uint8Array(data)]).stream()).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new LadingError('LIMIT', `${what} inflates to more than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

/** Reads a `.deb`; `withData: false` reads the control part only (plans). */
export async function readDeb(archive: Buffer, what: string, maxBytes: number, withData = true): Promise<DebPackage> {
  const members = readAr(archive, what);
  if (members[0]?.name !== 'debian-binary' || !members[0].data.toString('latin1').startsWith('2.')) {
    throw new LadingError('BAD_INPUT', `${what}: not a Debian binary package (debian-binary 2.x)`);
  }
  const controlMember = members.find((m) => m.name.startsWith('control.tar'));
  const dataMember = members.find((m) => m.name.startsWith('data.tar'));
  if (!controlMember || !dataMember) throw new LadingError('BAD_INPUT', `${what}: control.tar or data.tar is missing`);
  const controlItems = readTar(
    await inflate(controlMember.name, controlMember.data, maxBytes, what),
    `${what} control.tar`,
  );
  const infoFiles = new Map<string, Buffer>();
  for (const item of controlItems) if (item.type === 'file' && item.path !== '') infoFiles.set(item.path, item.data);
  const controlText = infoFiles.get('control');
  if (!controlText) throw new LadingError('BAD_INPUT', `${what}: control.tar has no control file`);
  infoFiles.delete('control');
  const control = parseStanzas(controlText.toString('utf8'))[0];
  if (!control) throw new LadingError('BAD_INPUT', `${what}: the control file is empty`);
  const scripts = MAINTAINER_SCRIPTS.filter((s) => infoFiles.has(s));
  const triggers = (infoFiles.get('triggers')?.toString('utf8') ?? '')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim().replace(/\s+/g, ' '))
    .filter((l) => l !== '');
  const conffiles = (infoFiles.get('conffiles')?.toString('utf8') ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('remove-on-upgrade '));
  const data = withData
    ? readTar(await inflate(dataMember.name, dataMember.data, maxBytes, what), `${what} data.tar`)
    : [];
  return {
    control,
    scripts,
    triggers,
    unsafeTriggers: triggers.filter((t) => !HARMLESS_TRIGGERS.has(t)),
    conffiles,
    infoFiles,
    data,
  };
}
