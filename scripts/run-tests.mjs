#!/usr/bin/env node
// Runs every WORKSPACE/test/**/*.test.ts on Node's own runner through tsx (Node 20 has no --test globs), in one run
// so that the totals are one. `--conditions=source` makes the engine's exports resolve to its TypeScript sources,
// so nothing needs building first.
// Extra arguments are test files or a substring filter: `npm run test:unit -- engine/test/versions`.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'fixtures' || name === 'node_modules') continue;
    if (statSync(path).isDirectory()) out.push(...find(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const WORKSPACES = ['engine', 'cli', 'server', 'dashboard'];
const filters = process.argv.slice(2);
const files = WORKSPACES.flatMap((w) => find(join(w, 'test')))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(2);
}
const result = spawnSync(
  process.execPath,
  [
    '--conditions=source',
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
