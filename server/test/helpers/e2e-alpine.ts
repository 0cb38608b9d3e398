// What the CLI-made test images share: the engine's end-to-end Alpine root filesystems (alpine-a: openssl
// 1.1.1q-r0, vulnerable; alpine-b: 1.1.1t-r0, fixing most of it) as layer entries for buildImage, and a fresh
// `lading db` folder holding the real OSV records of engine/test/fixtures/e2e/osv to scan them against.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { REPO_ROOT } from '../../../engine/test/helpers/cli.js';
import type { LayerEntry } from '../../../engine/test/helpers/images.js';
import { runLading } from './reports.js';

const E2E = join(REPO_ROOT, 'engine/test/fixtures/e2e');

export type AlpineRootfs = 'alpine-a' | 'alpine-b';

/** The root filesystem's folders and files, in sorted order, as one layer's entries. */
export async function alpineRootfsEntries(name: AlpineRootfs): Promise<LayerEntry[]> {
  const root = join(E2E, 'rootfs', name);
  const entries: LayerEntry[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(dir)).sort()) {
      const path = join(dir, entry);
      const rel = relative(root, path);
      if ((await stat(path)).isDirectory()) {
        entries.push({ type: 'dir', path: rel });
        await walk(path);
      } else {
        entries.push({ type: 'file', path: rel, content: await readFile(path) });
      }
    }
  };
  await walk(root);
  return entries;
}

/** Imports the end-to-end OSV records into a new database folder `dbDir` with the CLI. */
export async function importE2eAdvisories(dbDir: string): Promise<void> {
  await runLading(['db', 'import', join(E2E, 'osv'), '--db-dir', dbDir, '--quiet']);
}
