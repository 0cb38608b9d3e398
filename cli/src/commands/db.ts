import { existsSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LadingError, thrownValueText } from '@lading/engine/errors';
import type { Command } from 'commander';
import { deadlineOption } from '../deadline.js';
import { dbDirFrom, dbSourcesFrom } from '../environment.js';
import { collect, printWarnings } from '../output.js';

interface DbFlags {
  dbDir?: string;
  quiet?: boolean;
}

export function registerDb(program: Command): void {
  const db = program
    .command('db')
    .description('manage the local vulnerability database (update, import, status, export)');

  db.command('update')
    .description(
      'download OSV data (<source>/<Ecosystem>/all.zip, then <source>/<Ecosystem>/modified_id.csv increments), CISA KEV and EPSS (env LADING_KEV_URL, LADING_EPSS_URL)',
    )
    .option(
      '--ecosystem <name>',
      'OSV ecosystem to fetch, repeatable (default: those earlier scans needed)',
      collect,
      [],
    )
    .option('--source <url>', 'base URL of an OSV mirror (env LADING_DB_SOURCE)')
    .option('--full', 'download all.zip even when an incremental update would do')
    .option('--no-enrichment', 'skip the CISA KEV and EPSS feeds')
    .option('--db-dir <dir>', 'vulnerability database folder (env LADING_DB_DIR)')
    .option('-q, --quiet', 'no progress or warnings on stderr')
    .action(async (flags: DbFlags & { ecosystem: string[]; source?: string; full?: boolean; enrichment: boolean }) => {
      const { resolveSources, VulnStoreWriter, updateStore, plural } = await loadImplementation();
      const dir = dbDirFrom(flags.dbDir, process.env);
      const sources = dbSourcesFrom(flags.source, process.env);
      const store = VulnStoreWriter.open(dir);
      try {
        const progress = !flags.quiet && process.stderr.isTTY === true;
        const summary = await updateStore(store, {
          ecosystems: flags.ecosystem,
          sources: resolveSources(sources.mirrorBase, sources.feeds),
          now: new Date(),
          full: !!flags.full,
          skipEnrichment: !flags.enrichment,
          tempDir: dir,
          ...deadlineOption(),
          ...(progress ? { progress: (m: string) => process.stderr.write(`${m}\n`) } : {}),
        });
        printWarnings(summary.warnings, flags);
        for (const e of summary.ecosystems) {
          process.stdout.write(`${e.ecosystem}: ${e.mode}, ${e.changed} changed, ${plural(e.records, 'record')}\n`);
        }
        if (summary.kev !== undefined) process.stdout.write(`KEV: ${plural(summary.kev, 'entry', 'entries')}\n`);
        if (summary.epss !== undefined) process.stdout.write(`EPSS: ${plural(summary.epss, 'score')}\n`);
      } finally {
        store.close();
      }
    });

  db.command('import')
    .description('import OSV zip dumps, folders or files of OSV JSON/YAML, the CISA KEV JSON or an EPSS CSV')
    .argument('<paths...>', 'files or folders')
    .option('--db-dir <dir>', 'vulnerability database folder (env LADING_DB_DIR)')
    .option('-q, --quiet', 'no warnings on stderr')
    .action(async (paths: string[], flags: DbFlags) => {
      const { importPaths, VulnStoreWriter, plural } = await loadImplementation();
      const store = VulnStoreWriter.open(dbDirFrom(flags.dbDir, process.env));
      try {
        const summary = await importPaths(store, paths, new Date());
        printWarnings(summary.warnings, flags);
        const parts = [`${plural(summary.records, 'record')} imported`];
        if (summary.skipped) parts.push(`${summary.skipped} skipped`);
        if (summary.ecosystems.length) parts.push(`ecosystems: ${summary.ecosystems.join(', ')}`);
        if (summary.kev !== undefined) parts.push(`KEV: ${plural(summary.kev, 'entry', 'entries')}`);
        if (summary.epss !== undefined) parts.push(`EPSS: ${plural(summary.epss, 'score')}`);
        process.stdout.write(`${parts.join('; ')}\n`);
      } finally {
        store.close();
      }
    });

  db.command('status')
    .description('records and data age per ecosystem')
    .option('--json', 'machine-readable output')
    .option('--db-dir <dir>', 'vulnerability database folder (env LADING_DB_DIR)')
    .action(async (flags: DbFlags & { json?: boolean }) => {
      const { dbStatus, renderStatus, VulnStoreReader } = await loadImplementation();
      const dir = dbDirFrom(flags.dbDir, process.env);
      const store = VulnStoreReader.open(dir);
      if (!store) throw new LadingError('NO_DB', `no vulnerability database in ${dir}: run \`lading db update\``);
      try {
        const status = dbStatus(store, new Date());
        process.stdout.write(flags.json ? `${JSON.stringify(status, null, 2)}\n` : renderStatus(status));
      } finally {
        store.close();
      }
    });

  db.command('export')
    .description(
      'write a compact, consistent SQLite copy of the database (name it vulndb.sqlite in a folder and pass that folder as --db-dir)',
    )
    .argument('<file>', 'destination file')
    .option('--db-dir <dir>', 'vulnerability database folder (env LADING_DB_DIR)')
    .action(async (file: string, flags: DbFlags) => {
      const { VulnStoreReader } = await loadImplementation();
      const dir = dbDirFrom(flags.dbDir, process.env);
      const store = VulnStoreReader.open(dir);
      if (!store) throw new LadingError('NO_DB', `no vulnerability database in ${dir}: run \`lading db update\``);
      // VACUUM INTO refuses an existing file; write beside it and rename so a failure leaves no half file.
      const target = resolve(file);
      // Said plainly, before SQLite reports it as a failure to open its temporary file.
      const folder = await stat(dirname(target)).catch(() => undefined);
      if (!folder?.isDirectory()) {
        store.close();
        throw new LadingError('IO', `cannot export to ${file}: the folder ${dirname(target)} does not exist`);
      }
      const tmp = `${target}.tmp-${process.pid}`;
      try {
        await rm(tmp, { force: true });
        store.exportTo(tmp);
        await rename(tmp, target);
      } catch (err) {
        await rm(tmp, { force: true });
        if (err instanceof LadingError) throw err;
        throw new LadingError('IO', `cannot export to ${file}: ${thrownValueText(err)}`, { cause: err });
      } finally {
        store.close();
      }
      if (!existsSync(target)) throw new LadingError('IO', `cannot export to ${file}`);
      process.stdout.write(`exported ${store.path} to ${target}\n`);
    });
}

/** The implementation modules, loaded when a command runs so that CLI startup stays cheap. */
async function loadImplementation() {
  const [m0, m1, m2, m3, m4, m5, { plural }] = await Promise.all([
    import('@lading/engine/vulndb'),
    import('@lading/engine/vulndb'),
    import('@lading/engine/vulndb'),
    import('@lading/engine/vulndb'),
    import('@lading/engine/vulndb'),
    import('@lading/engine/vulndb'),
    import('@lading/engine/report'),
  ]);
  return { ...m0, ...m1, ...m2, ...m3, ...m4, ...m5, plural };
}
