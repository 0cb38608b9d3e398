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
 * writes its secrets: packages' documentation (its example keys are documentation: libxmlsec1's `rsakey.pem`),
 * manuals, locales, time zones, kernel modules, header files, terminfo.
 */
const SKIPPED_PREFIXES = [
  '/usr/share/doc/',
  '/usr/share/gtk-doc/',
  '/usr/share/help/',
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

/**
 * Library trees that only the distribution's package manager writes, and language runtimes' own standard libraries
 * (where the official images install them): vendor code by construction, and a third of a typical image's text.
 * Debian's pip, cpan and npm install under /usr/local; pip's site-packages and dist-packages under /usr/local stay
 * scanned. (Files the package database records are not findings anyway; this spares reading them.)
 */
const SKIPPED_TREES =
  /^\/usr\/(?:lib\/python3\/dist-packages\/|lib\/python\d(?:\.\d+)?\/(?!site-packages\/|dist-packages\/)|share\/perl5?\/|lib\/[^/]+-linux-gnu[^/]*\/perl5?\/|lib\/node_modules\/|lib\/ruby\/|lib\/go(?:-[\d.]+)?\/|lib\/jvm\/|local\/lib\/python\d(?:\.\d+)?\/(?!site-packages\/|dist-packages\/)|local\/lib\/node_modules\/(?:npm|corepack)\/|local\/go\/)/;

/** Whether the secret scanner reads this file: a regular file, under the cap, not known binary by name or place. */
export function isSecretCandidate(path: string, meta: FileMeta, maxBytes: number): boolean {
  if (meta.type !== 'file' || meta.size === 0 || meta.size > maxBytes) return false;
  for (const prefix of SKIPPED_PREFIXES) if (path.startsWith(prefix)) return false;
  if (path.startsWith('/usr/') && SKIPPED_TREES.test(path)) return false;
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
  /\/(?:node_modules|site-packages|dist-packages|gems|vendor|vendored|third_party|third-party|pkg\/mod|bundle)\/|^\/usr\/share\/(?:doc|[^/]+\/)|^\/usr\/lib\/go[^/]*\/src\//;
/** Test-fixture, example and documentation directories, as packages name them. */
const FIXTURE_DIR = /\/(?:test|tests|testdata|fixtures|__tests__|__fixtures__|examples?|samples?|docs?)\//;
/** A package's documents: their tokens are examples (PyJWT's README holds a JWT). */
const PACKAGE_DOC =
  /\/(?:README|CHANGELOG|CHANGES|HISTORY|NEWS|AUTHORS|LICENSE|PKG-INFO|METADATA)(?:\.[^/]*)?$|\.(?:md|rst|markdown)$/i;

/**
 * Files under a package's test fixtures carry test keys by design (trivy#2296 boto3 examples, trivy#2190 phpseclib):
 * a path with a `test/`, `tests/`, `testdata/`, `fixtures/`, `__tests__/`, `__fixtures__/`, `example(s)/`,
 * `sample(s)/` or `doc(s)/` directory, or a package document (`README*`, `CHANGELOG*`, `PKG-INFO`, `METADATA`,
 * `*.md`, `*.rst`), below a package directory (`node_modules/`, `site-packages/`, `dist-packages/`, `gems/`, `vendor/`, `vendored/`,
 * `third_party/`, `third-party/`, `pkg/mod/`, `bundle/`, `/usr/share/<pkg>/`, Go's `src/`). An application's own `/app/test/` is still scanned.
 */
export function isPackageFixture(path: string): boolean {
  const pkg = PACKAGE_DIR.exec(path);
  if (!pkg) return false;
  const inside = path.slice(pkg.index + pkg[0].length - 1);
  return FIXTURE_DIR.test(inside) || PACKAGE_DOC.test(inside);
}
