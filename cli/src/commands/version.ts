import { describeError, LadingError } from '@lading/engine/errors';
import type { DbStatus } from '@lading/engine/vulndb';
import type { Command } from 'commander';
import { dbDirFrom } from '../environment.js';

/**
 * `lading version compare ECOSYSTEM A B` prints -1, 0 or 1. With `--batch`, JSON lines `{"a","b"}` on standard
 * input give one result line each; a bad line gives an `{"error":"…"}` line and processing goes on, and the exit
 * status is 2 at the end if any line failed (so scripts notice without losing the other answers).
 */
export function registerVersion(program: Command): void {
  const version = program
    .command('version')
    .description("print Lading's version, the runtime and the vulnerability data's status; compare versions")
    .option('--json', 'machine-readable output')
    .option('--db-dir <dir>', 'vulnerability database folder (env LADING_DB_DIR)')
    .action(async (opts: { json?: boolean; dbDir?: string }) => {
      const about = await describeInstallation(dbDirFrom(opts.dbDir, process.env), new Date());
      process.stdout.write(opts.json ? `${JSON.stringify(about, null, 2)}\n` : renderInstallation(about));
    });
  version
    .command('compare')
    .description('print -1, 0 or 1 as A sorts before, equal to or after B (--batch: JSON lines {"a","b"} on stdin)')
    .argument('<ecosystem>', 'OSV ecosystem name: Debian, Ubuntu, Alpine, Red Hat, npm, PyPI, Go, Maven, …')
    .argument('[a]', 'first version')
    .argument('[b]', 'second version')
    .option('--batch', 'read {"a":…,"b":…} JSON lines from standard input, write one result per line')
    .action(async (ecosystem: string, a: string | undefined, b: string | undefined, opts: { batch?: boolean }) => {
      const { compareBatch, compareVersions } = await loadImplementation();
      if (opts.batch) {
        if (a !== undefined) throw new LadingError('USAGE', 'version compare --batch takes no versions as arguments');
        const summary = await compareBatch(ecosystem, process.stdin, process.stdout);
        if (summary.failed > 0) {
          process.stderr.write(`lading: ${summary.failed} of ${summary.lines} lines could not be compared\n`);
          process.exitCode = 2;
        }
        return;
      }
      if (a === undefined || b === undefined) {
        throw new LadingError('USAGE', 'version compare needs ECOSYSTEM A B (or --batch)');
      }
      process.stdout.write(`${compareVersions(ecosystem, a, b)}\n`);
    });
}

/** The implementation modules, loaded when a command runs so that CLI startup stays cheap. */
async function loadImplementation() {
  const [m0, m1] = await Promise.all([import('@lading/engine/versions'), import('@lading/engine/versions')]);
  return { ...m0, ...m1 };
}

/** What `lading version` reports (its `--json` form): like `trivy version`, the program, its runtime and its data. */
export interface Installation {
  version: string;
  runtime: { node: string; platform: string; arch: string };
  vulnerabilityData: {
    dbDir: string;
    /** `none`: no database in dbDir yet; `unreadable`: one that cannot be opened (`error` says why). */
    state: 'present' | 'none' | 'unreadable';
    error?: string;
    status?: DbStatus;
  };
}

async function describeInstallation(dbDir: string, now: Date): Promise<Installation> {
  const [{ LADING_VERSION }, { VulnStoreReader, dbStatus }] = await Promise.all([
    import('@lading/engine'),
    import('@lading/engine/vulndb'),
  ]);
  const runtime = { node: process.version, platform: process.platform, arch: process.arch };
  let data: Installation['vulnerabilityData'];
  try {
    const store = VulnStoreReader.open(dbDir);
    if (!store) {
      data = { dbDir, state: 'none' };
    } else {
      try {
        data = { dbDir, state: 'present', status: dbStatus(store, now) };
      } finally {
        store.close();
      }
    }
  } catch (err) {
    // The version must print even when the data is broken: that is when people ask for it.
    data = { dbDir, state: 'unreadable', error: describeError(err) };
  }
  return { version: LADING_VERSION, runtime, vulnerabilityData: data };
}

function renderInstallation(about: Installation): string {
  const data = about.vulnerabilityData;
  const lines = [
    `Version: ${about.version}`,
    `Runtime: Node.js ${about.runtime.node} (${about.runtime.platform}/${about.runtime.arch})`,
    `Vulnerability data: ${data.dbDir}`,
  ];
  if (data.state === 'none') {
    lines.push('  no vulnerability data (run `lading db update`, or `lading db import` for files)');
  } else if (data.state === 'unreadable') {
    lines.push(`  unreadable: ${data.error}`);
  } else if (data.status) {
    const held = data.status.ecosystems.filter((e) => e.records > 0 || e.updatedAt);
    if (held.length === 0) lines.push('  no vulnerability data (run `lading db update`)');
    for (const e of held) {
      const newest = e.newestRecord ? `, newest record ${e.newestRecord}` : '';
      const updated = e.updatedAt ? `last update ${e.updatedAt}` : 'never updated';
      lines.push(`  ${e.ecosystem}: ${e.records} ${e.records === 1 ? 'record' : 'records'}${newest}, ${updated}`);
    }
    lines.push(`  KEV: ${data.status.kev.entries} entries, EPSS: ${data.status.epss.scores} scores`);
  }
  return `${lines.join('\n')}\n`;
}
