import { readFileSync } from 'node:fs';

/** The package's own version, read once from package.json beside dist/ or src/. */
export const LADING_VERSION: string = (() => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
})();
