import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CATALOGERS } from '../../src/catalog/registry.js';
import { selectorFor } from '../../src/catalog/selector.js';
import { ENGINE_ROOT, REPO_ROOT } from '../helpers/paths.js';

const FIXTURES = join(ENGINE_ROOT, 'test/fixtures/catalog');
const LEFTHOOK = join(REPO_ROOT, 'node_modules/lefthook-linux-x64/bin/lefthook');

describe('the walk selector of all catalogers', () => {
  const selector = selectorFor(CATALOGERS);

  it('condenses extensionless data files for their one cataloger, though the binary cataloger wants executables', () => {
    const copyright = readFileSync(join(FIXTURES, 'os/dpkg/bookworm/usr/share/doc/tar/copyright'));
    const kept = selector.condense('/usr/share/doc/tar/copyright', copyright);
    assert.equal(kept?.condensedBy, 'dpkg');
    assert.ok((kept?.content.length ?? Infinity) < copyright.length / 2);
    const metadataPath = 'lang/python/usr/lib/python3/dist-packages/cryptography-38.0.4.dist-info/METADATA';
    const metadata = readFileSync(join(FIXTURES, metadataPath));
    const keptMetadata = selector.condense(`/${metadataPath.slice('lang/python/'.length)}`, metadata);
    assert.equal(keptMetadata?.condensedBy, 'python');
  });

  it('still condenses executables for the binary cataloger and drops those with nothing in them', () => {
    const go = selector.condense('/usr/local/bin/lefthook', readFileSync(LEFTHOOK));
    assert.equal(go?.condensedBy, 'binary');
    assert.ok((go?.content.length ?? Infinity) < 16 * 1024);
    assert.equal(selector.condense('/usr/bin/script', Buffer.from('#!/bin/sh\necho hi\n')), null);
  });

  it('opens for reads at offsets only files whose one wanting cataloger reads that way (executables)', () => {
    const exe = { size: 20_000_000, mode: 0o755, type: 'file' as const };
    const data = { size: 4096, mode: 0o644, type: 'file' as const };
    assert.equal(selector.condensesAt?.('/usr/local/bin/lefthook', exe), true);
    for (const path of ['/usr/share/doc/tar/copyright', '/app/node_modules/x/package.json', '/opt/app.jar']) {
      // a package.json is parsed whole: one over the file cap is skipped, never condensed
      assert.equal(selector.condenses?.(path, data), !path.endsWith('package.json'), path);
      assert.equal(selector.condensesAt?.(path, data), false, path);
    }
  });
});
