import { existsSync, readFileSync } from 'node:fs';

/**
 * The package's own version, read once from the package.json above this module: one level up from src/ and dist/,
 * two from the bundled CLI in dist/bundle/.
 */
export const LADING_VERSION: string = (() => {
  for (const up of ['../package.json', '../../package.json']) {
    const url = new URL(up, import.meta.url);
    if (!existsSync(url)) continue;
    const pkg = JSON.parse(readFileSync(url, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'lading' && pkg.version) return pkg.version;
  }
  return '0.0.0-unknown';
})();
