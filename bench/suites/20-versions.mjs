// `lading version compare --batch` on 100,000 JSON lines per scheme (the --batch contract: "a couple of seconds").
// Measured 2026-11-22 on the shared 2-core dev box under load (load average ~15; built CLI, Node 20): 100k lines take
// 1.1–2.0 s wall per scheme (Go fastest, PyPI slowest), of which ~0.5 s is CPU for Debian; the CLI's own start is
// ~0.4 s CPU. In-process, 100k Debian compareVersions calls (parse included) take ~0.4 s.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const name = 'versions';

const LINES = 100_000;

/** Deterministic pseudo-random versions in each scheme's real shapes (no Math.random: runs must be comparable). */
function generate(shape) {
  let seed = 42;
  const rnd = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const out = [];
  for (let i = 0; i < LINES; i++) out.push(JSON.stringify({ a: shape(rnd), b: shape(rnd) }));
  return `${out.join('\n')}\n`;
}

const SHAPES = {
  Debian: (r) => `${r(3)}:${r(20)}.${r(99)}.${r(9)}${r(2) ? '~rc1' : ''}-${r(5)}+deb12u${r(4)}`,
  Alpine: (r) => `${r(20)}.${r(99)}.${r(9)}${r(2) ? '_rc1' : ''}-r${r(5)}`,
  'Red Hat': (r) => `${r(2)}:${r(20)}.${r(99)}.${r(9)}-${r(50)}.el9_${r(4)}`,
  npm: (r) => `${r(20)}.${r(99)}.${r(9)}${r(2) ? `-beta.${r(9)}` : ''}`,
  PyPI: (r) => `${r(20)}.${r(99)}${r(2) ? `rc${r(3)}` : ''}${r(3) ? '' : `.post${r(3)}`}`,
  Maven: (r) => `${r(20)}.${r(99)}.${r(9)}${r(2) ? `-RC${r(3)}` : ''}${r(5) ? '' : '-SNAPSHOT'}`,
  Go: (r) => `v${r(20)}.${r(99)}.${r(9)}${r(3) ? '' : `-0.2022${r(9)}0102150405-abcdef123456`}`,
};

export async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'lading-bench-versions-'));
  const cases = Object.entries(SHAPES).map(([eco, shape]) => {
    const file = join(dir, `${eco.replace(/\W/g, '_')}.jsonl`);
    writeFileSync(file, generate(shape));
    return {
      label: `version compare --batch ${eco} (100k lines)`,
      cmd: '/bin/sh',
      args: ['-c', `"${process.execPath}" bin/lading version compare "${eco}" --batch < "${file}" > /dev/null`],
      runs: 3,
    };
  });
  return { cases, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
