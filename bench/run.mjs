#!/usr/bin/env node
// Times whole commands several times and prints medians. Benchmarks are listed in bench/suites/*.mjs;
// each exports `name` and `async setup()` returning `{ cases: [{ label, cmd, args, env? }], cleanup? }`.
// Usage: npm run bench [-- SUITE...] [--runs N]
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const argv = process.argv.slice(2);
const runsAt = argv.indexOf('--runs');
const runs = runsAt >= 0 ? Number(argv[runsAt + 1]) : 5;
const wanted = argv.filter((a, i) => !a.startsWith('--') && (runsAt < 0 || i !== runsAt + 1));

export function timeCommand(cmd, args, env = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const suiteDir = new URL('./suites/', import.meta.url);
const suites = readdirSync(suiteDir)
  .filter((f) => f.endsWith('.mjs'))
  .sort();
for (const file of suites) {
  const suite = await import(pathToFileURL(new URL(file, suiteDir).pathname).href);
  if (wanted.length && !wanted.includes(suite.name)) continue;
  console.log(`\n## ${suite.name}`);
  const { cases, cleanup } = await suite.setup();
  try {
    for (const c of cases) {
      const times = [];
      for (let i = 0; i < (c.runs ?? runs); i++) times.push(timeCommand(c.cmd, c.args, c.env));
      const shown = [c.cmd, ...c.args].join(' ');
      console.log(
        `${c.label.padEnd(48)} median ${median(times).toFixed(0).padStart(7)} ms  (n=${times.length})  $ ${shown}`,
      );
    }
  } finally {
    await cleanup?.();
  }
}
