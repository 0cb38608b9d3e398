import { existsSync, readFileSync } from 'node:fs';

/**
 * The package's root folder: the nearest folder above this module whose package.json names the engine or the CLI
 * that bundles it. Modules run from engine/src/ (tests), engine/dist/ (the library) or cli/dist/bundle/ (the CLI),
 * so a fixed `../` would hold for only some of them. Both packages carry the same version.
 */
function findPackageRoot(): URL {
  for (let dir = new URL('./', import.meta.url), i = 0; i < 4; dir = new URL('../', dir), i++) {
    const manifest = new URL('package.json', dir);
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
    if (pkg.name === '@lading/engine' || pkg.name === 'lading') return dir;
  }
  throw new Error(`cannot find Lading's package.json above ${import.meta.url}`);
}

let root: URL | undefined;

/** A file shipped with the package (`package.json`), by its path from the package root. */
export function packageFile(relative: string): URL {
  root ??= findPackageRoot();
  return new URL(relative, root);
}
