// Vulnerability store budgets (docs/performance.md, "Budgets"): import one ecosystem's all.zip of ~100k records in < 60 s and
// < 500 MB RSS; match 10,000 packages against the full store in < 1 s. Records are synthetic but shaped from the
// real fixtures in test/fixtures/vulndb/osv (DEBIAN-CVE and GHSA templates: same fields, sizes, range shapes).
// Suite mode: `npm run bench -- vulndb`. Script mode (what the cases run: the engine's public entries
// `@lading/engine/vulndb` and `@lading/engine/match`, with the `source` condition so tsx runs src/ as is):
//   node --conditions=source --import tsx bench/suites/30-vulndb.mjs generate DIR      writes DIR/Debian-all.zip
//   node --conditions=source --import tsx bench/suites/30-vulndb.mjs import ZIP DBDIR  db import into a fresh DBDIR
//   node --conditions=source --import tsx bench/suites/30-vulndb.mjs match DBDIR [distinct|debian|sparse]
//     opens a VulnStoreReader, matches 10k packages (matchVulnerabilities), closes it
// LADING_BENCH_BUILT=1 times the compiled engine (engine/dist, from `npm run build`: the exports' default condition)
// instead of src/ through tsx: what an installed Lading runs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const name = 'vulndb';

const RECORDS = 100_000;
const SOURCES = 5_000;
const PACKAGES = 10_000;
const HERE = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILT = process.env.LADING_BENCH_BUILT;

/** mulberry32: deterministic, and unlike a plain LCG its low bits are usable for `% n`. */
function rng(seed) {
  return (n) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}

const sourceName = (i) => `srcpkg${i.toString(36)}`;

async function generate(dir) {
  const { buildZip } = await import(join(ROOT, 'engine/test/helpers/zip-writer.ts'));
  const template = JSON.parse(
    readFileSync(join(ROOT, 'engine/test/fixtures/vulndb/osv/Debian/DEBIAN-CVE-2019-5094.json'), 'utf8'),
  );
  const r = rng(7);
  const entries = [];
  for (let i = 0; i < RECORDS; i++) {
    const id = `DEBIAN-CVE-${2000 + (i % 26)}-${100000 + i}`;
    const src = sourceName(r(SOURCES));
    const releases = ['Debian:11', 'Debian:12', 'Debian:13'].slice(0, 1 + r(3));
    const record = {
      ...template,
      id,
      upstream: [id.slice('DEBIAN-'.length)],
      modified: `2025-0${1 + r(9)}-1${r(9)}T00:00:00Z`,
      affected: releases.map((eco) => ({
        package: { ecosystem: eco, name: src, purl: `pkg:deb/debian/${src}?arch=source` },
        ranges: [
          {
            type: 'ECOSYSTEM',
            events: r(4)
              ? [{ introduced: '0' }, { fixed: `${r(9)}.${r(20)}.${r(9)}-${1 + r(4)}+deb12u${r(3)}` }]
              : [{ introduced: '0' }],
          },
        ],
        ecosystem_specific: { urgency: ['low', 'medium', 'unimportant', 'not yet assigned'][r(4)] },
      })),
    };
    entries.push({ name: `${id}.json`, data: JSON.stringify(record) });
  }
  writeFileSync(join(dir, 'Debian-all.zip'), buildZip(entries));
}

async function importZip(zip, dbDir) {
  rmSync(dbDir, { recursive: true, force: true });
  const { VulnStoreWriter, importPaths } = await import('@lading/engine/vulndb');
  const start = performance.now();
  const cpu = process.cpuUsage();
  const store = VulnStoreWriter.open(dbDir);
  const summary = await importPaths(store, [zip], new Date());
  store.close();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const rssMb = process.resourceUsage().maxRSS / 1024;
  console.log(
    `imported ${summary.records} records in ${ms.toFixed(0)} ms wall, ${((used.user + used.system) / 1000).toFixed(0)} ms CPU, max RSS ${rssMb.toFixed(0)} MB`,
  );
}

/**
 * `distinct`: every package its own source and version (worst case: ~20 advisories each, nothing shared).
 * `debian`: binaries come four to a source at the source's version, as in a real Debian image.
 * `sparse`: one package in ten has advisories.
 */
async function match(dbDir, shape = 'distinct') {
  const { VulnStoreReader } = await import('@lading/engine/vulndb');
  const { matchVulnerabilities } = await import('@lading/engine/match');
  const r = rng(11);
  const packages = [];
  const perSource = shape === 'debian' ? 4 : 1;
  let src = '';
  let version = '';
  for (let i = 0; i < PACKAGES; i++) {
    if (i % perSource === 0) {
      // `sparse`: like a real image, most packages have no advisory at all (9 in 10 here).
      src = shape === 'sparse' && r(10) > 0 ? `clean${i}` : sourceName(r(SOURCES));
      version = `${r(9)}.${r(20)}.${r(9)}-${1 + r(4)}`;
    }
    packages.push({
      id: `deb:bin${i}`,
      name: `bin${i}`,
      version,
      type: 'deb',
      purl: `pkg:deb/debian/bin${i}@${version}?distro=debian-12`,
      source: { name: src },
      licenses: [],
      locations: [{ path: '/var/lib/dpkg/status', layer: 'sha256:0' }],
      foundBy: 'dpkg',
    });
  }
  const inventory = { os: { family: 'debian', version: '12', ecosystem: 'Debian:12' }, packages, warnings: [] };
  const start = performance.now();
  const cpu = process.cpuUsage();
  const store = VulnStoreReader.open(dbDir);
  if (!store) throw new Error(`no vulnerability database in ${dbDir}`);
  const result = matchVulnerabilities(inventory, store, { now: new Date() });
  store.close();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  console.log(
    `matched ${PACKAGES} packages (${shape}): ${result.findings.length} findings in ${ms.toFixed(0)} ms wall, ${cpuMs.toFixed(0)} ms CPU`,
  );
}

export async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'lading-bench-vulndb-'));
  const conditions = BUILT ? [] : ['--conditions=source'];
  const tsx = (...args) => [process.execPath, [...conditions, '--import', 'tsx', HERE, ...args]];
  const run = (...args) => {
    const [cmd, argv] = tsx(...args);
    const r = spawnSync(cmd, argv, { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return r.stdout.trim();
  };
  run('generate', dir);
  const zip = join(dir, 'Debian-all.zip');
  const db = join(dir, 'db');
  console.log(run('import', zip, db));
  console.log(run('match', db, 'distinct'));
  console.log(run('match', db, 'debian'));
  console.log(run('match', db, 'sparse'));
  const [cmd, importArgs] = tsx('import', zip, join(dir, 'db-import'));
  const [, matchArgs] = tsx('match', db, 'distinct');
  const [, debianArgs] = tsx('match', db, 'debian');
  const [, sparseArgs] = tsx('match', db, 'sparse');
  return {
    cases: [
      { label: `db import all.zip (${RECORDS / 1000}k records)`, cmd, args: importArgs, runs: 1 },
      { label: `match ${PACKAGES / 1000}k packages, distinct sources`, cmd, args: matchArgs, runs: 3 },
      { label: `match ${PACKAGES / 1000}k packages, 4 binaries per source`, cmd, args: debianArgs, runs: 3 },
      { label: `match ${PACKAGES / 1000}k packages, 1 in 10 with advisories`, cmd, args: sparseArgs, runs: 3 },
    ],
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

if (process.argv[1] === HERE) {
  const [mode, a, b] = process.argv.slice(2);
  if (mode === 'generate') await generate(a);
  else if (mode === 'import') await importZip(a, b);
  else if (mode === 'match') await match(a, b);
  else {
    console.error('usage: 30-vulndb.mjs generate DIR | import ZIP DBDIR | match DBDIR');
    process.exit(2);
  }
}
