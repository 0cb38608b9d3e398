// apt repositories as the image configures them: sources (one-line `sources.list` and deb822 `.sources`), trusted
// keys, and the verified chain InRelease (OpenPGP) → Packages (SHA-256 from InRelease) → `.deb` (SHA-256 from
// Packages). Every byte used is checked against the link above it; a break in the chain is DIGEST_MISMATCH.
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { LadingError } from '../errors/lading-error.js';
import { fetchBytes } from '../http/download.js';
import { field, fieldLines, parseStanzas, type Stanza } from './control.js';
import { type PublicKey, readKeyring, verifyClearsigned, verifyDetached } from './openpgp.js';
import type { RootView } from './rootfs.js';

export interface AptSource {
  uri: string;
  suite: string;
  components: string[];
  /** Keyring files (paths inside the image) or inline keys from `Signed-By`; empty: the image's trusted keys. */
  signedBy: string[];
  /** Guessed from the release (images without apt sources, like distroless): a suite the mirror lacks is skipped. */
  guessed?: boolean;
}

export interface AptCandidate {
  package: string;
  version: string;
  architecture: string;
  source: string;
  /** Full URL of the `.deb`. */
  url: string;
  sha256: string;
  size: number;
  stanza: Stanza;
}

export interface AptIndexOptions {
  now: Date;
  /** Replaces every source's URI (a mirror the user names). */
  mirror?: string;
  /** Keyring files' bytes given by the user instead of the image's trusted keys. */
  keyrings?: Buffer[];
  architecture: string;
  signal?: AbortSignal;
}

const MAX_INDEX = 512 * 1024 ** 2;
const MAX_RELEASE = 16 * 1024 ** 2;

function splitWords(value: string | undefined): string[] {
  return (value ?? '').split(/\s+/).filter((w) => w !== '');
}

/**
 * The image's apt sources: `etc/apt/sources.list`, `etc/apt/sources.list.d/*.list` and `*.sources`. An image with
 * none (distroless) but a mirror given gets the release's usual suites there: `<codename>`, `-updates`, `-security`.
 */
export function aptSources(view: RootView, mirror?: string): AptSource[] {
  const configured = configuredSources(view);
  if (configured.length > 0 || !mirror) return configured;
  const osRelease = (view.content('etc/os-release') ?? view.content('usr/lib/os-release'))?.toString('utf8') ?? '';
  const codename = /^VERSION_CODENAME="?([a-z]+)"?$/m.exec(osRelease)?.[1];
  if (!codename) return [];
  return ['', '-updates', '-security'].map((suffix) => ({
    uri: mirror,
    suite: `${codename}${suffix}`,
    components: ['main'],
    signedBy: [],
    guessed: true,
  }));
}

function configuredSources(view: RootView): AptSource[] {
  const sources: AptSource[] = [];
  const files = ['etc/apt/sources.list', ...view.children('etc/apt/sources.list.d')];
  for (const path of files) {
    const content = view.content(path)?.toString('utf8');
    if (content === undefined) continue;
    if (path.endsWith('.sources')) {
      for (const stanza of parseStanzas(content)) {
        if (!splitWords(field(stanza, 'Types')).includes('deb')) continue;
        if ((field(stanza, 'Enabled') ?? 'yes').toLowerCase() === 'no') continue;
        const signed = field(stanza, 'Signed-By');
        const signedBy = signed === undefined ? [] : signed.includes('BEGIN PGP') ? [signed] : splitWords(signed);
        for (const uri of splitWords(field(stanza, 'URIs'))) {
          for (const suite of splitWords(field(stanza, 'Suites'))) {
            sources.push({ uri, suite, components: splitWords(field(stanza, 'Components')), signedBy });
          }
        }
      }
    } else if (path.endsWith('.list')) {
      for (const raw of content.split('\n')) {
        const line = raw.replace(/#.*/, '').trim();
        if (!line.startsWith('deb ') && !line.startsWith('deb\t')) continue;
        let rest = line.slice(4).trim();
        const signedBy: string[] = [];
        if (rest.startsWith('[')) {
          const end = rest.indexOf(']');
          for (const option of splitWords(rest.slice(1, end))) {
            const [key, value] = option.split('=');
            if (key === 'signed-by' && value) for (const path of value.split(',')) signedBy.push(path);
          }
          rest = rest.slice(end + 1).trim();
        }
        const [uri, suite, ...components] = splitWords(rest);
        if (uri && suite) sources.push({ uri, suite, components, signedBy });
      }
    }
  }
  return sources;
}

/**
 * The keys a source is checked with: its `Signed-By` (files in the image, or inline keys), else the image's trusted
 * keyrings: `etc/apt/trusted.gpg`, `etc/apt/trusted.gpg.d/*` and `usr/share/keyrings/*` (where the distribution's
 * archive keyring package puts them).
 */
function imageKeys(view: RootView, signedBy: string[]): PublicKey[] {
  const keys: PublicKey[] = [];
  if (signedBy.length > 0) {
    for (const entry of signedBy) {
      if (entry.includes('BEGIN PGP')) {
        for (const key of readKeyring(Buffer.from(entry.replace(/^\s*\.\s*$/gm, '')), 'Signed-By')) keys.push(key);
        continue;
      }
      const bytes = view.contentFollowing(entry.replace(/^\/+/, ''));
      if (!bytes) throw new LadingError('BAD_INPUT', `Signed-By ${entry}: the image has no such keyring file`);
      for (const key of readKeyring(bytes, entry)) keys.push(key);
    }
    return keys;
  }
  // The trusted directories, as apt reads them: `.gpg` and `.asc` files; one that is not a keyring is skipped, as
  // apt skips it with a warning, rather than stopping the patch.
  const files = [
    'etc/apt/trusted.gpg',
    ...view.children('etc/apt/trusted.gpg.d'),
    ...view.children('usr/share/keyrings'),
  ];
  for (const path of files) {
    // debian-archive-removed-keys.gpg and the like hold keys that are no longer trusted.
    if (!/\.(gpg|asc)$|trusted\.gpg$/.test(path) || /removed/.test(path)) continue;
    const bytes = view.contentFollowing(path);
    if (!bytes) continue;
    try {
      for (const key of readKeyring(bytes, `/${path}`)) keys.push(key);
    } catch {
      // not a keyring: skipped
    }
  }
  return keys;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function fetchRequired(url: string, max: number, signal: AbortSignal | undefined): Promise<Buffer> {
  const body = await fetchBytes(url, max, signal ? { signal } : {});
  if (!body) throw new LadingError('NOT_FOUND', `${url}: not found (HTTP 404)`);
  return body;
}

/** Parses a Release date (`Sat, 05 Dec 2026 10:00:00 UTC`). */
function releaseDate(value: string, what: string): Date {
  const date = new Date(value.replace(/\bUTC\b/, 'GMT'));
  if (Number.isNaN(date.getTime()))
    throw new LadingError('BAD_INPUT', `${what}: unreadable date ${JSON.stringify(value)}`);
  return date;
}

/**
 * Every package the image's sources offer for `architecture` (and `all`), each with its verified `.deb` hash. The
 * InRelease of each suite is verified against the source's keys; each Packages index against InRelease's SHA-256.
 */
export async function aptCandidates(view: RootView, options: AptIndexOptions): Promise<AptCandidate[]> {
  const sources = aptSources(view, options.mirror);
  if (sources.length === 0) {
    throw new LadingError(
      'BAD_INPUT',
      'the image configures no apt sources (etc/apt/sources.list[.d]); name a repository with the mirror option',
      { option: 'mirror' },
    );
  }
  const candidates: AptCandidate[] = [];
  for (const source of sources) {
    const base = (options.mirror ?? source.uri).replace(/\/+$/, '');
    const keys = options.keyrings
      ? options.keyrings.flatMap((k, i) => readKeyring(k, `keyring ${i + 1}`))
      : imageKeys(view, source.signedBy);
    if (keys.length === 0) {
      throw new LadingError(
        'DIGEST_MISMATCH',
        `${base} ${source.suite}: no trusted OpenPGP key in the image to verify it with; name one with the keyrings option`,
        { option: 'keyrings' },
      );
    }
    const dists = `${base}/dists/${source.suite}`;
    const releaseText = await verifiedRelease(dists, keys, options.signal);
    if (releaseText === undefined) {
      if (source.guessed) continue;
      throw new LadingError('NOT_FOUND', `${dists}: neither InRelease nor Release is there (HTTP 404)`);
    }
    const release = parseStanzas(releaseText.text)[0] ?? [];
    const validUntil = field(release, 'Valid-Until');
    if (validUntil && releaseDate(validUntil, releaseText.url) < options.now) {
      throw new LadingError('DIGEST_MISMATCH', `${releaseText.url} expired on ${validUntil} (Valid-Until)`);
    }
    const hashes = new Map<string, { sha256: string; size: number }>();
    for (const line of fieldLines(release, 'SHA256')) {
      const [hash, size, path] = splitWords(line);
      if (hash && size && path) hashes.set(path, { sha256: hash.toLowerCase(), size: Number(size) });
    }
    for (const component of source.components) {
      for (const arch of [options.architecture, 'all']) {
        const index = await fetchPackages(dists, component, arch, hashes, options.signal);
        if (!index) continue;
        for (const stanza of parseStanzas(index)) {
          const name = field(stanza, 'Package');
          const version = field(stanza, 'Version');
          const filename = field(stanza, 'Filename');
          const hash = field(stanza, 'SHA256');
          if (!name || !version || !filename || !hash) continue;
          const sourceField = splitWords(field(stanza, 'Source'))[0] ?? name;
          candidates.push({
            package: name,
            version,
            architecture: field(stanza, 'Architecture') ?? arch,
            source: sourceField,
            url: `${base}/${filename.replace(/^\/+/, '')}`,
            sha256: hash.toLowerCase(),
            size: Number(field(stanza, 'Size') ?? Number.NaN),
            stanza,
          });
        }
      }
    }
  }
  return candidates;
}

/**
 * The suite's Release, verified: `InRelease` (clearsigned), else `Release` with its detached `Release.gpg`, as apt
 * tries them. Undefined when the suite has neither.
 */
async function verifiedRelease(
  dists: string,
  keys: PublicKey[],
  signal: AbortSignal | undefined,
): Promise<{ text: string; url: string } | undefined> {
  const fetchOptions = signal ? { signal } : {};
  const inRelease = await fetchBytes(`${dists}/InRelease`, MAX_RELEASE, fetchOptions);
  if (inRelease) {
    const url = `${dists}/InRelease`;
    return { text: verifyClearsigned(inRelease.toString('utf8'), keys, url).text, url };
  }
  const release = await fetchBytes(`${dists}/Release`, MAX_RELEASE, fetchOptions);
  if (!release) return undefined;
  const url = `${dists}/Release`;
  const signature = await fetchBytes(`${url}.gpg`, MAX_RELEASE, fetchOptions);
  if (!signature) throw new LadingError('DIGEST_MISMATCH', `${url}: unsigned (no InRelease, no Release.gpg)`);
  verifyDetached(release, signature, keys, `${url}.gpg`);
  return { text: release.toString('utf8'), url };
}

/** A component's Packages index (plain or gzip), checked against InRelease; undefined when InRelease lists none. */
async function fetchPackages(
  dists: string,
  component: string,
  arch: string,
  hashes: Map<string, { sha256: string; size: number }>,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  // Debian's security suite lists `updates/main` as its component but keeps the indexes under `main/`.
  for (const comp of [component, component.split('/').pop() as string]) {
    for (const name of ['Packages.gz', 'Packages']) {
      const path = `${comp}/binary-${arch}/${name}`;
      const expected = hashes.get(path);
      if (!expected) continue;
      const url = `${dists}/${path}`;
      const body = await fetchRequired(url, MAX_INDEX, signal);
      if (body.length !== expected.size || sha256(body) !== expected.sha256) {
        throw new LadingError('DIGEST_MISMATCH', `${url}: SHA-256 differs from the one InRelease lists`);
      }
      try {
        return (name.endsWith('.gz') ? gunzipSync(body, { maxOutputLength: MAX_INDEX }) : body).toString('utf8');
      } catch (err) {
        throw new LadingError('BAD_INPUT', `${url}: corrupt gzip`, { cause: err });
      }
    }
  }
  return undefined;
}

/** Downloads a `.deb` and checks its size and SHA-256 against the verified Packages entry. */
export async function fetchDeb(candidate: AptCandidate, maxBytes: number, signal?: AbortSignal): Promise<Buffer> {
  const body = await fetchRequired(candidate.url, maxBytes, signal);
  if ((Number.isFinite(candidate.size) && body.length !== candidate.size) || sha256(body) !== candidate.sha256) {
    throw new LadingError('DIGEST_MISMATCH', `${candidate.url}: SHA-256 differs from the one the Packages index lists`);
  }
  return body;
}
