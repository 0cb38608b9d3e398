// Alpine packages and repositories (apk-tools 2): `.apk` files and `APKINDEX.tar.gz` are concatenated gzip streams.
// The index's first stream is a tar holding `.SIGN.RSA[256].<key name>`, an RSA signature over the rest of the file
// (the compressed bytes, as abuild-sign makes it); a package's `C:` line in the index is `Q1` + base64 SHA-1 of the
// package's control stream, and the control stream's `.PKGINFO` holds `datahash`, the SHA-256 of its data stream.
// The chain verified: index signature (the image's /etc/apk/keys) → control stream → data stream.
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { LadingError } from '../errors/lading-error.js';
import { fetchBytes } from '../http/download.js';
import type { RootView } from './rootfs.js';
import { readTar, type TarItem } from './tar.js';

export interface ApkKey {
  /** The key file's name (`alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub`), as signatures name it. */
  name: string;
  key: KeyObject;
}

/** One package block of APKINDEX or of the installed database: its lines in order. */
export type ApkBlock = [key: string, value: string][];

export interface ApkCandidate {
  block: ApkBlock;
  name: string;
  version: string;
  architecture: string;
  origin: string;
  /** `Q1…` checksum of the control stream, from the verified index. */
  checksum: string;
  url: string;
  repository: string;
}

const MAX_INDEX = 256 * 1024 ** 2;
const MAX_INDEX_FILE = 64 * 1024 ** 2;

function mismatch(message: string): LadingError {
  return new LadingError('DIGEST_MISMATCH', message);
}

export function apkField(block: ApkBlock, key: string): string | undefined {
  for (const [k, v] of block) if (k === key) return v;
  return undefined;
}

/** `P:name` blocks separated by blank lines. */
export function parseApkBlocks(text: string): ApkBlock[] {
  const blocks: ApkBlock[] = [];
  let current: ApkBlock = [];
  for (const line of text.split('\n')) {
    if (line === '') {
      if (current.length > 0) blocks.push(current);
      current = [];
      continue;
    }
    const colon = line.indexOf(':');
    if (colon !== 1) continue;
    current.push([line.slice(0, 1), line.slice(2)]);
  }
  if (current.length > 0) blocks.push(current);
  return blocks;
}

export function formatApkBlock(block: ApkBlock): string {
  return block.map(([k, v]) => `${k}:${v}\n`).join('');
}

/**
 * The gzip members of a file: each member's compressed bytes (header to trailer) and inflated content. At most
 * `maxMembers`; each member's output is capped by `maxBytes`.
 */
export function gzipMembers(
  data: Buffer,
  what: string,
  maxMembers: number,
  maxBytes: number,
): { raw: Buffer; content: Buffer }[] {
  const members: { raw: Buffer; content: Buffer }[] = [];
  let at = 0;
  while (at < data.length) {
    if (members.length >= maxMembers)
      throw new LadingError('BAD_INPUT', `${what}: more than ${maxMembers} gzip streams`);
    if (data[at] !== 0x1f || data[at + 1] !== 0x8b || data[at + 2] !== 8) {
      throw new LadingError('BAD_INPUT', `${what}: not a gzip stream at byte ${at}`);
    }
    const flags = data[at + 3] as number;
    let p = at + 10;
    if (flags & 4) p += 2 + data.readUInt16LE(p);
    if (flags & 8) p = data.indexOf(0, p) + 1;
    if (flags & 16) p = data.indexOf(0, p) + 1;
    if (flags & 2) p += 2;
    if (p <= at || p > data.length) throw new LadingError('BAD_INPUT', `${what}: corrupt gzip header`);
    let inflated: { buffer: Buffer; engine: { bytesWritten: number } };
    try {
      inflated = inflateRawSync(data.subarray(p), {
        info: true,
        maxOutputLength: maxBytes,
      }) as unknown as typeof inflated;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new LadingError('LIMIT', `${what}: a gzip stream inflates to more than ${maxBytes} bytes`);
      }
      throw new LadingError('BAD_INPUT', `${what}: corrupt gzip stream`, { cause: err });
    }
    const end = p + inflated.engine.bytesWritten + 8;
    if (end > data.length) throw new LadingError('BAD_INPUT', `${what}: truncated gzip stream`);
    members.push({ raw: data.subarray(at, end), content: inflated.buffer });
    at = end;
  }
  return members;
}

/** Entries of a tar stream cut without its end-of-archive blocks (apk's signature and control streams). */
function cutTar(content: Buffer, what: string): TarItem[] {
  return readTar(Buffer.concat([content, Buffer.alloc(1024)]), what);
}

/** Checks the signature stream (`.SIGN.RSA.<key>` / `.SIGN.RSA256.<key>`) over `signed` with the named key. */
function verifySignature(signature: Buffer, signed: Buffer, keys: ApkKey[], what: string): void {
  const entries = cutTar(signature, `${what} signature`);
  let named = 0;
  for (const entry of entries) {
    const m = /^\.SIGN\.RSA(256)?\.(.+)$/.exec(entry.path);
    if (!m) continue;
    const key = keys.find((k) => k.name === m[2]);
    if (!key) continue;
    named++;
    if (verify(m[1] ? 'sha256' : 'sha1', signed, key.key, entry.data)) return;
  }
  if (named === 0) throw mismatch(`${what}: not signed by a key in /etc/apk/keys (or the keyrings given)`);
  throw mismatch(`${what}: the signature does not verify (the index was changed or the key is wrong)`);
}

/** The image's apk repositories (`etc/apk/repositories`, comments and tagged `@name` lines skipped). */
export function apkRepositories(view: RootView): string[] {
  const text = view.content('etc/apk/repositories')?.toString('utf8') ?? '';
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l !== '' && !l.startsWith('@'));
}

/** Keys: the image's `etc/apk/keys/*` (PEM public keys named by their file name), or the caller's. */
export function apkKeys(view: RootView, given?: Buffer[]): ApkKey[] {
  const keys: ApkKey[] = [];
  if (given) {
    return given.map((pem, i) => ({ name: `keyring ${i + 1}`, key: createPublicKey(pem) }));
  }
  for (const path of view.children('etc/apk/keys')) {
    const bytes = view.contentFollowing(path);
    if (!bytes) continue;
    try {
      keys.push({ name: path.slice(path.lastIndexOf('/') + 1), key: createPublicKey(bytes) });
    } catch (err) {
      throw new LadingError('BAD_INPUT', `/${path}: not a PEM public key`, { cause: err });
    }
  }
  return keys;
}

/** Verifies an APKINDEX.tar.gz and returns its APKINDEX text. */
export function verifiedApkIndex(file: Buffer, keys: ApkKey[], what: string, anyKeyName: boolean): string {
  const members = gzipMembers(file, what, 2, MAX_INDEX);
  const [signature, content] = members;
  if (!signature || !content) throw mismatch(`${what}: unsigned (no signature stream)`);
  const signed = file.subarray(signature.raw.length);
  // Keys the caller gives carry no apk key name: any of them may have made the signature.
  const usable = anyKeyName
    ? keys.flatMap((k) => signatureNames(signature.content, what).map((name) => ({ ...k, name })))
    : keys;
  verifySignature(signature.content, signed, usable, what);
  const index = cutTar(content.content, what).find((e) => e.path === 'APKINDEX');
  if (!index) throw new LadingError('BAD_INPUT', `${what}: no APKINDEX inside`);
  return index.data.toString('utf8');
}

function signatureNames(signature: Buffer, what: string): string[] {
  return cutTar(signature, `${what} signature`)
    .map((e) => /^\.SIGN\.RSA(?:256)?\.(.+)$/.exec(e.path)?.[1])
    .filter((n): n is string => n !== undefined);
}

export interface ApkIndexOptions {
  mirror?: string;
  keyrings?: Buffer[];
  architecture: string;
  signal?: AbortSignal;
}

/** Every package the repositories offer, from their verified indexes. */
export async function apkCandidates(
  view: RootView,
  options: ApkIndexOptions,
): Promise<{ repositories: string[]; candidates: ApkCandidate[] }> {
  const repositories = apkRepositories(view).map((r) =>
    options.mirror ? `${options.mirror.replace(/\/+$/, '')}/${r.split('/').slice(-2).join('/')}` : r,
  );
  if (repositories.length === 0) {
    throw new LadingError('BAD_INPUT', 'the image configures no apk repositories (etc/apk/repositories)');
  }
  const keys = apkKeys(view, options.keyrings);
  if (keys.length === 0) throw mismatch('no apk signing key to verify the indexes with (etc/apk/keys is empty)');
  const candidates: ApkCandidate[] = [];
  for (const repository of repositories) {
    const base = `${repository.replace(/\/+$/, '')}/${options.architecture}`;
    const url = `${base}/APKINDEX.tar.gz`;
    const file = await fetchBytes(url, MAX_INDEX_FILE, options.signal ? { signal: options.signal } : {});
    if (!file) throw new LadingError('NOT_FOUND', `${url}: not found (HTTP 404)`);
    const text = verifiedApkIndex(file, keys, url, !!options.keyrings);
    for (const block of parseApkBlocks(text)) {
      const name = apkField(block, 'P');
      const version = apkField(block, 'V');
      const checksum = apkField(block, 'C');
      if (!name || !version || !checksum) continue;
      candidates.push({
        block,
        name,
        version,
        architecture: apkField(block, 'A') ?? options.architecture,
        origin: apkField(block, 'o') ?? name,
        checksum,
        url: `${base}/${name}-${version}.apk`,
        repository,
      });
    }
  }
  return { repositories, candidates };
}

/** Scripts apk would run on an upgrade (any of them makes the verdict needs-scripts). */
const APK_SCRIPTS = /^\.(pre|post)-(install|upgrade|deinstall)$|^\.trigger$/;

export interface ApkPackage {
  pkginfo: Map<string, string[]>;
  scripts: string[];
  triggers: string[];
  data: TarItem[];
  /** SHA-256 of the whole `.apk` file, for provenance. */
  sha256: string;
}

/** Q1 + base64 SHA-1: apk's checksum notation. */
export function q1(data: Buffer): string {
  return `Q1${createHash('sha1').update(data).digest('base64')}`;
}

/**
 * Reads a downloaded `.apk`, checking its control stream against the index's `C:` and its data stream against the
 * control's `datahash`. The package's own signature stream is not needed once the index vouches for the control.
 */
export function readApk(file: Buffer, checksum: string, what: string, maxBytes: number, withData = true): ApkPackage {
  const members = gzipMembers(file, what, 3, maxBytes);
  if (members.length < 2) throw new LadingError('BAD_INPUT', `${what}: not an apk (too few gzip streams)`);
  const control = members.length === 3 ? members[1] : members[0];
  const data = members[members.length - 1];
  if (!control || !data) throw new LadingError('BAD_INPUT', `${what}: not an apk`);
  if (q1(control.raw) !== checksum) throw mismatch(`${what}: control checksum differs from the one APKINDEX lists`);
  const controlItems = cutTar(control.content, `${what} control`);
  const info = controlItems.find((e) => e.path === '.PKGINFO');
  if (!info) throw new LadingError('BAD_INPUT', `${what}: no .PKGINFO`);
  const pkginfo = new Map<string, string[]>();
  for (const line of info.data.toString('utf8').split('\n')) {
    const m = /^([a-z_]+) = (.*)$/.exec(line);
    if (m) pkginfo.set(m[1] as string, [...(pkginfo.get(m[1] as string) ?? []), m[2] as string]);
  }
  const datahash = pkginfo.get('datahash')?.[0];
  if (!datahash) throw new LadingError('BAD_INPUT', `${what}: .PKGINFO has no datahash`);
  if (createHash('sha256').update(data.raw).digest('hex') !== datahash) {
    throw mismatch(`${what}: data differs from the datahash its verified control lists`);
  }
  return {
    pkginfo,
    scripts: controlItems.filter((e) => APK_SCRIPTS.test(e.path)).map((e) => e.path),
    triggers: pkginfo.get('triggers') ?? [],
    data: withData ? readTar(data.content, `${what} data`) : [],
    sha256: createHash('sha256').update(file).digest('hex'),
  };
}
