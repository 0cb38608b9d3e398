// Bundles the compiled CLI (dist/cli/bin.js) into dist/bundle/: one file per lazily loaded part instead of ~200
// modules, so a command resolves, reads and compiles a few files rather than hundreds (≈ 50 ms of every run on
// Node 20; see bench/RESULTS-image.md). dist/ itself stays the library build that tests and other layers import.
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bundle`;

await rm(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['dist/cli/bin.js'],
  outdir,
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
});
