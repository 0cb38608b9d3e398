#!/usr/bin/env node
// Times whole commands several times and prints medians. Benchmarks are listed in bench/suites/*.mjs;
// each exports `name` and `async setup()` returning `{ cases: [{ label, cmd, args, env? }], cleanup? }`.
// Usage: npm run bench [-- SUITE...] [--runs N]
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';

const argv = process.argv.slice(2);
const runsAt = argv.indexOf('--runs');
const runs = runsAt >= 0 ? Number(argv[runsAt + 1]) : 5;
const wanted = argv.filter((a, i) => !a.startsWith('--') && (runsAt < 0 || i !== runsAt + 1));

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/**
 * CPU time (user + system, ms) of every child this process has waited for, grandchildren included: the kernel adds
 * a reaped child's times to its parent's `cutime`/`cstime` (/proc/self/stat fields 16 and 17). Linux only.
 */
function reapedChildrenCpuMs() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the parenthesised command name start at field 3; the name itself may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Wall time of one run of a command and, on Linux, the CPU time it used on all cores (10 ms resolution). */
export function timeCommand(cmd, args, env = {}) {
  const cpuBefore = reapedChildrenCpuMs();
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const cpuAfter = reapedChildrenCpuMs();
  return { ms, cpuMs: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore };
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
    const cpuTimes = cases.map(() => []);
    const rounds = Math.max(...cases.map((c) => c.runs ?? runs));
    for (let round = 0; round < rounds; round++) {
      for (const [i, c] of cases.entries()) {
        if (round >= (c.runs ?? runs)) continue;
        const { ms, cpuMs } = timeCommand(c.cmd, c.args, c.env);
        times[i].push(ms);
        if (cpuMs !== undefined) cpuTimes[i].push(cpuMs);
      }
    }
    const medians = {};
    const cpuMedians = {};
    for (const [i, c] of cases.entries()) {
      const shown = [c.cmd, ...c.args].join(' ');
      const key = c.key ?? c.label;
      medians[key] = median(times[i]);
      if (cpuTimes[i].length) cpuMedians[key] = median(cpuTimes[i]);
      const cpu = key in cpuMedians ? `  cpu ${cpuMedians[key].toFixed(0).padStart(6)} ms` : '';
      console.log(
        `${c.label.padEnd(48)} median ${median(times[i]).toFixed(0).padStart(6)} ms  min ${Math.min(...times[i])
          .toFixed(0)
          .padStart(6)} ms${cpu}  (n=${times[i].length})  $ ${shown}`,
      );
    }
    if (budget) console.log(budget(medians, cpuMedians, availableParallelism()));
  } finally {
    await cleanup?.();
  }
}
