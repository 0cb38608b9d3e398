import type { WantedFiles } from '../../../image/file.js';
import type { OsInfo } from '../../../model/os.js';
import type { WarningSink } from '../warnings.js';
import { osvEcosystem, type ReleaseFacts } from './ecosystem.js';
import { eolDate } from './eol.js';
import { parseOsRelease } from './os-release-file.js';

export const OS_RELEASE_PATHS = ['/etc/os-release', '/usr/lib/os-release'] as const;
export const RELEASE_FILE_PATHS = [
  '/etc/alpine-release',
  '/etc/redhat-release',
  '/etc/system-release',
  '/etc/debian_version',
] as const;
export const DISTROLESS_DPKG_DIR = '/var/lib/dpkg/status.d/';
export const APK_REPOSITORIES = '/etc/apk/repositories';

/** Release-file product names (`<name> release <version>`) → os-release IDs. */
const RELEASE_NAMES: [RegExp, string][] = [
  [/^red hat enterprise linux/i, 'rhel'],
  [/^centos/i, 'centos'],
  [/^rocky linux/i, 'rocky'],
  [/^almalinux/i, 'almalinux'],
  [/^fedora/i, 'fedora'],
  [/^amazon linux/i, 'amzn'],
  [/^oracle linux/i, 'ol'],
  [/^cbl-mariner/i, 'mariner'],
];

/**
 * Detects the OS from os-release first (`/etc` over `/usr/lib`, which it usually links to), then the older
 * release files, then the mere presence of a distroless dpkg database. The release's end-of-life date is recorded;
 * whether it has passed is decided later, for a given moment (`withEolStatus`).
 */
export function detectOs(files: WantedFiles, sink: WarningSink): OsInfo | undefined {
  const facts = fromOsRelease(files, sink) ?? fromReleaseFiles(files) ?? fromDistroless(files);
  if (!facts) return undefined;
  const os: OsInfo = { family: facts.facts.id, version: facts.version };
  if (facts.name) os.name = facts.name;
  const ecosystem = alpineRepositoryEcosystem(files, facts.facts, sink) ?? osvEcosystem(facts.facts);
  if (ecosystem) os.ecosystem = ecosystem;
  const eol = facts.version ? eolDate(os.family, os.version) : undefined;
  if (eol) os.eolDate = eol;
  return os;
}

interface Detected {
  facts: ReleaseFacts;
  version: string;
  name?: string;
}

function text(files: WantedFiles, path: string): string | undefined {
  const file = files.get(path);
  if (!file || file.content.length === 0) return undefined;
  return file.content.toString('utf8');
}

function fromOsRelease(files: WantedFiles, sink: WarningSink): Detected | undefined {
  for (const path of OS_RELEASE_PATHS) {
    const content = text(files, path);
    if (content === undefined) continue;
    const fields = parseOsRelease(content);
    const id = fields.get('ID')?.trim();
    if (!id) {
      sink.note(path, 'os-release has no ID field');
      continue;
    }
    if (!OS_RELEASE_WORD.test(id)) {
      sink.note(path, `os-release has an invalid ID ${JSON.stringify(id.slice(0, 64))}; ignored`);
      continue;
    }
    const word = (key: string): string | undefined => {
      const value = fields.get(key)?.trim();
      if (!value || OS_RELEASE_WORD.test(value)) return value || undefined;
      sink.note(path, `os-release has an invalid ${key} ${JSON.stringify(value.slice(0, 64))}; ignored`);
      return undefined;
    };
    let versionId = word('VERSION_ID');
    // Debian testing/sid and some minimal images omit VERSION_ID; the release files still tell.
    if (!versionId && id === 'alpine') versionId = alpineRelease(files);
    const facts: ReleaseFacts = { id };
    if (versionId) facts.versionId = versionId;
    const pretty = printable(fields.get('PRETTY_NAME'));
    if (pretty) facts.prettyName = pretty;
    const codename = word('VERSION_CODENAME') ?? word('UBUNTU_CODENAME');
    if (codename) facts.codename = codename;
    const cpe = printable(fields.get('CPE_NAME'));
    if (cpe) facts.cpeName = cpe;
    const detected: Detected = { facts, version: versionId ?? codename ?? '' };
    if (pretty) detected.name = pretty;
    return detected;
  }
  return undefined;
}

function fromReleaseFiles(files: WantedFiles): Detected | undefined {
  const alpine = alpineRelease(files);
  if (alpine) return { facts: { id: 'alpine', versionId: alpine }, version: alpine };
  for (const path of ['/etc/redhat-release', '/etc/system-release']) {
    const line = printable(text(files, path)?.split('\n')[0]);
    if (!line) continue;
    const m = /^(.*?)\s+release\s+(\d+(?:\.\d+)*)/i.exec(line);
    if (!m?.[1] || !m[2]) continue;
    const product = m[1];
    const id = RELEASE_NAMES.find(([re]) => re.test(product))?.[1];
    if (!id) continue;
    return { facts: { id, versionId: m[2], prettyName: line }, version: m[2], name: line };
  }
  const debian = text(files, '/etc/debian_version')?.trim();
  if (debian) {
    // `12.5` names a point release of Debian 12; `trixie/sid` a testing release with no number yet.
    const major = /^(\d+)/.exec(debian)?.[1];
    const facts: ReleaseFacts = { id: 'debian' };
    if (major) {
      facts.versionId = major;
      return { facts, version: major };
    }
    // `trixie/sid`: the codename, then the unstable suite; anything else there is not a Debian release.
    if (!/^[a-z0-9][a-z0-9._~-]*(?:\/[a-z0-9._~-]+)?$/i.test(debian)) return undefined;
    facts.codename = debian.split('/')[0] ?? debian;
    return { facts, version: debian };
  }
  return undefined;
}

/** os-release(5): ID, VERSION_ID and VERSION_CODENAME hold only `0-9`, `a-z`, `.`, `_`, `-` (upper case tolerated). */
const OS_RELEASE_WORD = /^[A-Za-z0-9][A-Za-z0-9._~-]*$/;

/** `/etc/alpine-release` holds a bare version (`3.19.1`); anything else there is not one. */
function alpineRelease(files: WantedFiles): string | undefined {
  const value = text(files, '/etc/alpine-release')?.trim();
  return value && /^\d+(?:\.\d+)*(?:_[a-z]+\d*)?$/.test(value) ? value : undefined;
}

/** Free text (names shown to people) without control or bidi characters. */
function printable(value: string | undefined): string | undefined {
  const clean = value?.replace(/[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu, ' ').trim();
  return clean || undefined;
}

function fromDistroless(files: WantedFiles): Detected | undefined {
  for (const path of files.keys()) {
    if (path.startsWith(DISTROLESS_DPKG_DIR)) return { facts: { id: 'debian' }, version: '' };
  }
  return undefined;
}

/**
 * Alpine images upgraded in place (`apk upgrade` against newer repositories) keep an old os-release; the
 * configured repositories say which release's packages are installed, so they decide the ecosystem (as trivy's
 * Alpine detector does). Only a single, consistent `/vX.Y/` release is trusted.
 */
function alpineRepositoryEcosystem(files: WantedFiles, facts: ReleaseFacts, sink: WarningSink): string | undefined {
  if (facts.id !== 'alpine') return undefined;
  const repositories = text(files, APK_REPOSITORIES);
  if (!repositories) return undefined;
  const releases = new Set<string>();
  for (const line of repositories.split('\n')) {
    if (line.trim().startsWith('#')) continue;
    const m = /\/v(\d+\.\d+)\//.exec(line);
    if (m?.[1]) releases.add(m[1]);
  }
  if (releases.size !== 1) return undefined;
  const [release] = [...releases];
  const fromOsRelease = facts.versionId?.match(/^\d+\.\d+/)?.[0];
  if (release && fromOsRelease && release !== fromOsRelease) {
    sink.note(
      APK_REPOSITORIES,
      `os-release says Alpine ${facts.versionId}, repositories say v${release}; using the repositories`,
    );
  }
  return release ? `Alpine:v${release}` : undefined;
}
