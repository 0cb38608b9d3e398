// The esbuild options of the CLI bundle, shared by scripts/bundle.mjs and the lazy-loading test (which builds in
// memory with a metafile to see which modules each chunk holds).
import { fileURLToPath } from 'node:url';

export const CLI_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** @type {import('esbuild').BuildOptions} */
export const BUNDLE_OPTIONS = {
  absWorkingDir: CLI_ROOT,
  entryPoints: ['src/bin.ts'],
  // The engine's exports name its TypeScript sources under the `source` condition: bundling from them keeps source
  // maps one step from the code a stack names.
  conditions: ['source'],
  outdir: `${CLI_ROOT}dist/bundle`,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // A native addon cannot be bundled; it loads from node_modules when an rpm SQLite database or the
  // vulnerability store needs it.
  external: ['better-sqlite3'],
  // CommonJS dependencies call require() for Node's built-ins; ESM chunks have none of their own.
  banner: {
    js: "import { createRequire as __ladingRequire } from 'node:module';\nconst require = __ladingRequire(import.meta.url);",
  },
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
};
