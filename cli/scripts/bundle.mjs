// Bundles the CLI (src/bin.ts and the engine's sources, reached through its exports) into dist/bundle/: one file per
// lazily loaded part instead of ~200 modules, so a command resolves, reads and compiles a few files rather than
// hundreds (≈ 50 ms of every run on Node 20; see bench/RESULTS-image.md).
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';
import { BUNDLE_OPTIONS } from './bundle-options.mjs';

await rm(BUNDLE_OPTIONS.outdir, { recursive: true, force: true });
await build(BUNDLE_OPTIONS);
