import { thrownValueText } from '../../../errors/lading-error.js';
import { dpkgScheme } from '../../../versions/dpkg.js';

/** Debian Policy 5.6.1: lower-case letters, digits, `+`, `-`, `.`; at least two characters, starting alphanumeric. */
const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;
/** dpkg-architecture names: `amd64`, `all`, `musl-linux-arm64`. */
const ARCH_NAME = /^[a-z0-9][a-z0-9-]*$/;

export function isValidPackageName(name: string): boolean {
  return PACKAGE_NAME.test(name);
}

export function isValidArch(arch: string): boolean {
  return ARCH_NAME.test(arch);
}

/**
 * A version dpkg accepts and Lading can order: dpkg's hard errors, characters outside its alphabet, control and
 * non-ASCII characters are refused; a version dpkg only warns about (not starting with a digit) is kept.
 */
export function dpkgVersionProblem(version: string): string | undefined {
  try {
    dpkgScheme.parse(version);
    return undefined;
  } catch (err) {
    return thrownValueText(err);
  }
}

const WANTS = new Set(['unknown', 'install', 'hold', 'deinstall', 'purge']);
const FLAGS = new Set(['ok', 'reinstreq']);
const STATES = new Set([
  'not-installed',
  'config-files',
  'half-installed',
  'unpacked',
  'half-configured',
  'triggers-awaited',
  'triggers-pending',
  'installed',
]);

/** dpkg's `Status: want flag state` triple: anything else (a cut-off or garbled value) is not a status. */
export function isValidStatus(status: string): boolean {
  const words = status.trim().split(/\s+/);
  return words.length === 3 && WANTS.has(words[0] ?? '') && FLAGS.has(words[1] ?? '') && STATES.has(words[2] ?? '');
}
