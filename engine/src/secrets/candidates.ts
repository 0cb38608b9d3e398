import type { FileMeta } from '../image/file.js';

/** Largest file the secret scanner reads by default (bytes); larger files are skipped, like gitleaks' cap. */
export const DEFAULT_MAX_SECRET_FILE_BYTES = 10 * 1024 * 1024;

/** Extensions of files that are never text a secret is written in: media, archives, compiled code, fonts. */
const BINARY_EXTENSIONS = new Set([
  'png',
  'jpg',
  'jpeg',
  'gif',
  'bmp',
  'ico',
  'webp',
  'tif',
  'tiff',
  'svgz',
  'mp3',
  'mp4',
  'ogg',
  'wav',
  'avi',
  'gz',
  'tgz',
  'bz2',
  'xz',
  'zst',
  'zip',
  'jar',
  'war',
  'ear',
  'whl',
  'egg',
  'tar',
  '7z',
  'rar',
  'deb',
  'rpm',
  'apk',
  'so',
  'a',
  'o',
  'ko',
  'dll',
  'exe',
  'pyc',
  'pyo',
  'class',
  'dex',
  'wasm',
  'node',
  'mo',
  'gmo',
  'db',
  'sqlite',
  'woff',
  'woff2',
  'ttf',
  'otf',
  'eot',
  'pcf',
  'pdf',
  'cache',
  'bin',
  'dat',
  'pack',
  'idx',
  'gem',
  'nupkg',
  'h',
  'hpp',
  'pod',
  'mmdb',
]);

/**
 * Directories of files that come from a distribution's or language's own tree and are never where a deployment
 * writes its secrets: manuals, locales, time zones, kernel modules, header files, terminfo.
 */
const SKIPPED_PREFIXES = [
  '/usr/share/man/',
  '/usr/share/info/',
  '/usr/share/locale/',
  '/usr/share/i18n/',
  '/usr/share/zoneinfo/',
  '/usr/share/terminfo/',
  '/usr/share/mime/',
  '/usr/share/icons/',
  '/usr/share/fonts/',
  '/usr/include/',
  '/lib/modules/',
  '/usr/lib/modules/',
  '/usr/lib/locale/',
  '/proc/',
  '/sys/',
  '/dev/',
];

/** Whether the secret scanner reads this file: a regular file, under the cap, not known binary by name or place. */
export function isSecretCandidate(path: string, meta: FileMeta, maxBytes: number): boolean {
  if (meta.type !== 'file' || meta.size === 0 || meta.size > maxBytes) return false;
  for (const prefix of SKIPPED_PREFIXES) if (path.startsWith(prefix)) return false;
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  if (dot > slash + 1) {
    const ext = path.slice(dot + 1).toLowerCase();
    if (BINARY_EXTENSIONS.has(ext)) return false;
  }
  return !isPackageFixture(path);
}

/** Directories inside which each package keeps its own files (npm, Python, Ruby, Go modules, PHP, distro docs). */
const PACKAGE_DIR =
  /\/(?:node_modules|site-packages|dist-packages|gems|vendor|pkg\/mod|bundle)\/|^\/usr\/share\/(?:doc|[^/]+\/)|^\/usr\/lib\/go[^/]*\/src\//;
/** Test-fixture directories, as packages name them. */
const FIXTURE_DIR = /\/(?:test|tests|testdata|fixtures|__tests__|__fixtures__)\//;

/**
 * Files under a package's test fixtures carry test keys by design (trivy#2296 boto3 examples, trivy#2190 phpseclib):
 * a path with a `test/`, `tests/`, `testdata/`, `fixtures/`, `__tests__/` or `__fixtures__/` directory below a
 * package directory (`node_modules/`, `site-packages/`, `dist-packages/`, `gems/`, `vendor/`, `pkg/mod/`,
 * `bundle/`, `/usr/share/<pkg>/`, Go's `src/`). An application's own `/app/test/` is still scanned.
 */
export function isPackageFixture(path: string): boolean {
  const pkg = PACKAGE_DIR.exec(path);
  if (!pkg) return false;
  return FIXTURE_DIR.test(path.slice(pkg.index + pkg[0].length - 1));
}
