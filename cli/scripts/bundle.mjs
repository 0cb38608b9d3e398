// Bundles the CLI (src/bin.ts and the engine's sources, reached through its exports) into dist/bundle/: one file per
// lazily loaded part instead of ~200 modules, so a command resolves, reads and compiles a few files rather than
// hundreds (≈ 50 ms of every run on Node 20; see bench/RESULTS-image.md).
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bundle`;

await rm(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/bin.ts'],
  // The engine's exports name its TypeScript sources under the `source` condition: bundling from them keeps source
  // maps one step from the code a stack names.
  conditions: ['source'],
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
