import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { it } from 'node:test';
import { CATALOGERS } from '../../src/catalog/registry.js';
import { runCatalogers } from '../../src/catalog/run.js';
import type { WantedFile } from '../../src/image/file.js';
import { findVulnerabilities } from '../../src/match/find-vulnerabilities.js';
import { importPaths } from '../../src/vulndb/import-paths.js';
import { VulnStoreWriter } from '../../src/vulndb/writer.js';
import { tempDir } from '../helpers/tmp.js';
import { wantedFromDir } from '../helpers/wanted-files.js';
import { OSV_FIXTURES } from '../vulndb/fixtures.js';

const NOW = new Date('2026-01-10T00:00:00Z');
const EGG = '/usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO';

// Excerpts of a Debian 12 image: python3-requests (source requests) owns its egg-info.
const ROOT_FILES: Record<string, string> = {
  '/etc/os-release':
    'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n',
  '/var/lib/dpkg/status':
    'Package: python3-requests\nStatus: install ok installed\nPriority: optional\nSection: python\nInstalled-Size: 225\nMaintainer: Debian Python Team <team+python@tracker.debian.org>\nArchitecture: all\nSource: requests\nVersion: 2.28.1+dfsg-1\nDepends: python3-certifi, python3-charset-normalizer, python3-idna, python3-urllib3, python3:any, ca-certificates\nDescription: elegant and simple HTTP library for Python3, built for human beings\n\n',
  '/var/lib/dpkg/info/python3-requests.list': `/usr/lib/python3/dist-packages/requests-2.28.1.egg-info\n${EGG}\n`,
  [EGG]: 'Metadata-Version: 2.1\nName: requests\nVersion: 2.28.1\nSummary: Python HTTP for Humans.\n',
};

it('a PyPI package owned by a dpkg package is matched once, as the deb', async (t) => {
  const root = await tempDir(t);
  for (const [path, content] of Object.entries(ROOT_FILES)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  const files = new Map<string, WantedFile>();
  for (const cataloger of CATALOGERS) {
    for (const [path, file] of await wantedFromDir(root, cataloger)) if (!files.has(path)) files.set(path, file);
  }
  const inventory = await runCatalogers(files, CATALOGERS);
  assert.equal(inventory.os?.ecosystem, 'Debian:12');
  assert.deepEqual(
    inventory.packages.map((p) => `${p.type}:${p.name}`),
    ['deb:python3-requests'],
  );

  const dbDir = await tempDir(t);
  const store = VulnStoreWriter.open(dbDir);
  await importPaths(store, [OSV_FIXTURES], NOW);
  store.close();
  const result = await findVulnerabilities(inventory, { dbDir, offline: true, now: NOW });
  // requests 2.28.1 is in GHSA-j8r2-6x86-q33q's PyPI range; only a Debian record may speak for the deb.
  assert.deepEqual(
    result.findings.filter((f) => f.package.type === 'pypi'),
    [],
  );
  assert.deepEqual(Object.keys(result.db.ecosystems), ['Debian']);
});
