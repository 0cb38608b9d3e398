import { thrownValueText } from '@lading/engine/errors';
// The automatic update of a scan that is online: as Trivy and Grype do, the data a scan needs arrives on first use
// and is refreshed when older than a day, before matching. `db update` stays for CI caches and air-gapped hosts.

import { deadlineOption } from './deadline.js';
import { dbSourcesFrom, type Environment } from './environment.js';
import { printWarnings } from './output.js';

/** Data older than this is refreshed by the next online scan. */
export const AUTO_UPDATE_AFTER_MS = 24 * 3600 * 1000;

/**
 * One update per ecosystem per run, shared: `diff` scans two targets at once, and both may need Debian. The
 * promise settles when the update ended, whether or not it worked (a failure is a warning: see below).
 */
const updating = new Map<string, Promise<void>>();
/** The updates of one run, one after another (runUpdate never rejects: a failure is a warning). */
let writerQueue: Promise<void> = Promise.resolve();

export interface AutoUpdateOptions {
  dbDir: string;
  env: Environment;
  /** The run's clock reading. */
  now: Date;
  /** No progress or warnings on stderr. */
  quiet?: boolean;
}

/**
 * The scan's `prepareData`: given the releases the inventory needs (`Debian:12`, `npm`), downloads the ecosystems
 * whose data is missing, does not cover a needed release, or is older than a day. A failed download is a warning:
 * the matcher then fails with exit 3 naming what is missing, or goes on with the older data (and its age warning).
 */
export function autoUpdater(options: AutoUpdateOptions): (releases: string[]) => Promise<void> {
  return async (releases) => {
    const vulndb = await import('@lading/engine/vulndb');
    const due = ecosystemsDue(vulndb, options, releases);
    const mine = due.filter((name) => !updating.has(name));
    if (mine.length > 0) {
      // one writer at a time: a second would wait on the first's lock, and give up after its busy timeout
      const work = writerQueue.then(() => runUpdate(vulndb, options, mine));
      writerQueue = work;
      for (const name of mine) updating.set(name, work);
    }
    await Promise.all(due.map((name) => updating.get(name)));
  };
}

type Vulndb = typeof import('@lading/engine/vulndb');

function ecosystemsDue(vulndb: Vulndb, options: AutoUpdateOptions, releases: string[]): string[] {
  let store: ReturnType<Vulndb['VulnStoreReader']['open']>;
  try {
    store = vulndb.VulnStoreReader.open(options.dbDir);
  } catch {
    // an older layout (or a damaged file): the update upgrades or reports it
    return [...new Set(releases.map(baseOf))].sort();
  }
  const due = new Set<string>();
  try {
    for (const release of releases) {
      const coverage = store ? vulndb.releaseCoverage(store, release) : undefined;
      const old = !coverage?.updatedAt || options.now.getTime() - Date.parse(coverage.updatedAt) > AUTO_UPDATE_AFTER_MS;
      if (!coverage?.covered || old) due.add(baseOf(release));
    }
  } finally {
    store?.close();
  }
  return [...due].sort();
}

async function runUpdate(vulndb: Vulndb, options: AutoUpdateOptions, ecosystems: string[]): Promise<void> {
  const progress = !options.quiet && process.stderr.isTTY === true;
  const say = progress ? (message: string) => process.stderr.write(`${message}\n`) : undefined;
  say?.(`lading: fetching vulnerability data for ${ecosystems.join(', ')} (skip with --skip-db-update)`);
  let store: ReturnType<Vulndb['VulnStoreWriter']['open']> | undefined;
  try {
    store = vulndb.VulnStoreWriter.open(options.dbDir);
    const sources = dbSourcesFrom(undefined, options.env);
    const kevUpdated = store.meta('kev.updatedAt');
    const enrichmentOld = !kevUpdated || options.now.getTime() - Date.parse(kevUpdated) > AUTO_UPDATE_AFTER_MS;
    const summary = await vulndb.updateStore(store, {
      ecosystems,
      exactly: true,
      sources: vulndb.resolveSources(sources.mirrorBase, sources.feeds),
      now: options.now,
      skipEnrichment: !enrichmentOld,
      tempDir: options.dbDir,
      ...deadlineOption(),
      ...(say ? { progress: say } : {}),
    });
    printWarnings(summary.warnings, { quiet: options.quiet === true });
  } catch (err) {
    const reason = thrownValueText(err);
    printWarnings([`could not update vulnerability data for ${ecosystems.join(', ')}: ${reason}`], {
      quiet: options.quiet === true,
    });
  } finally {
    store?.close();
  }
}

function baseOf(release: string): string {
  const colon = release.indexOf(':');
  return colon === -1 ? release : release.slice(0, colon);
}
