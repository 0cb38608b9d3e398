#!/usr/bin/env node
// lading-server. Which code runs:
// - dist/main.js, the compiled JavaScript (`npm run build -w @lading/server`, part of the root `npm run build`):
//   what the packed package and the container image hold; it needs only the server's production dependencies.
// - The TypeScript sources through tsx, only in a development checkout: src/ is beside this folder (the package's
//   "files" leave it out) and tsx (a root devDependency) resolves, and either dist/ is missing, a source file is
//   newer than dist/main.js (so an edit is never shadowed by a stale build), or the engine resolves to its
//   TypeScript sources (`node --conditions=source`, as the benchmarks run it), which only tsx can load.
// Either way the server runs in this process, so signals (and a kill -9) reach the server itself.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DIST_MAIN = new URL('../dist/main.js', import.meta.url);
const SRC = new URL('../src/', import.meta.url);

function resolves(specifier) {
  try {
    return import.meta.resolve(specifier);
  } catch {
    return undefined;
  }
}

/** The newest modification time (ms) of the files under `dir`. */
function newestUnder(dir) {
  let newest = 0;
  for (const name of readdirSync(dir, { recursive: true })) {
    const stat = statSync(`${dir}/${name}`);
    if (stat.isFile() && stat.mtimeMs > newest) newest = stat.mtimeMs;
  }
  return newest;
}

function runSources() {
  if (!existsSync(new URL('main.ts', SRC)) || !resolves('tsx/esm/api')) return false;
  if (!existsSync(DIST_MAIN)) return true;
  if (resolves('@lading/engine/errors')?.endsWith('.ts')) return true;
  return newestUnder(fileURLToPath(SRC)) > statSync(DIST_MAIN).mtimeMs;
}

let main;
if (runSources()) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/main.ts'));
} else if (existsSync(DIST_MAIN)) {
  ({ main } = await import('../dist/main.js'));
} else {
  process.stderr.write('lading-server: dist/main.js is missing: build it with `npm run build -w @lading/server`\n');
  process.exit(3);
}
process.exit(await main(process.argv.slice(2)));
