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
  const { cases, cleanup, budget } = await suite.setup();
  try {
    // Rounds run every case once, in turn: drift in machine load then touches all cases alike, instead of
    // whichever case happened to run during a busy minute.
    const times = cases.map(() => []);
    const rounds = Math.max(...cases.map((c) => c.runs ?? runs));
    for (let round = 0; round < rounds; round++) {
      for (const [i, c] of cases.entries()) {
        if (round < (c.runs ?? runs)) times[i].push(timeCommand(c.cmd, c.args, c.env));
      }
    }
    const medians = {};
    for (const [i, c] of cases.entries()) {
      const shown = [c.cmd, ...c.args].join(' ');
      medians[c.key ?? c.label] = median(times[i]);
      console.log(
        `${c.label.padEnd(48)} median ${median(times[i]).toFixed(0).padStart(6)} ms  min ${Math.min(...times[i])
          .toFixed(0)
          .padStart(6)} ms  (n=${times[i].length})  $ ${shown}`,
      );
    }
    if (budget) console.log(budget(medians));
  } finally {
    await cleanup?.();
  }
}
