// Images made by tools we did not write (skopeo, umoci, GNU tar) must read the same as our own.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { openTarget } from '../../src/image/open.js';
import { FileRangeSource } from '../../src/image/tar/byte-source.js';
import { TarReader } from '../../src/image/tar/tar-reader.js';
import { buildImage } from '../helpers/images.js';
import { tempDir } from '../helpers/tmp.js';
import { LIMITS, OS_SELECTOR, textOf } from './select.js';

const run = promisify(execFile);

async function walked(spec: string) {
  const opened = await openTarget(spec);
  try {
    const w = await opened.walk(OS_SELECTOR, LIMITS);
    return { target: opened.target, files: textOf(w.files), layers: [...w.files.values()].map((f) => f.layer) };
  } finally {
    await opened.close();
  }
}

describe('images written by other tools', () => {
  test('skopeo copy to docker-archive, oci-archive and a new layout reads identically', async (t) => {
    const dir = await tempDir(t);
    const built = await buildImage(dir, {
      layers: [
        [
          { type: 'file', path: '/usr/lib/os-release', content: 'ID=alpine\n' },
          { type: 'symlink', path: '/etc/os-release', target: '../usr/lib/os-release' },
          { type: 'file', path: '/var/lib/dpkg/status', content: 'Package: a\n' },
        ],
        [{ type: 'whiteout', path: '/var/lib/dpkg/status' }],
      ],
    });
    const ours = await walked(`oci:${built.ociDir}`);
    const src = `oci:${built.ociDir}:latest`;
    await run('skopeo', ['copy', '-q', src, `docker-archive:${dir}/skopeo.tar:lading/x:1`]);
    await run('skopeo', ['copy', '-q', src, `oci-archive:${dir}/skopeo-oci.tar:v1`]);
    await run('skopeo', ['copy', '-q', '--dest-compress-format', 'zstd', src, `oci:${dir}/skopeo-zstd:v1`]);
    const forms = [
      `docker-archive:${dir}/skopeo.tar`,
      `oci-archive:${dir}/skopeo-oci.tar:v1`,
      `oci:${dir}/skopeo-zstd:v1`,
    ];
    assert.deepEqual(ours.files, { '/etc/os-release': 'ID=alpine\n' });
    for (const spec of forms) {
      const theirs = await walked(spec);
      assert.deepEqual(theirs.files, ours.files, spec);
      assert.deepEqual(
        theirs.target.layers.map((l) => l.diffId),
        built.diffIds,
        spec,
      );
      assert.deepEqual(theirs.layers, ours.layers, spec);
    }
    // skopeo records the normalized name.
    assert.deepEqual((await walked(forms[0]!)).target.repoTags, ['docker.io/lading/x:1']);
    assert.equal((await walked(`${forms[0]}:lading/x:1`)).target.imageId, ours.target.imageId);
  });

  test('umoci-built layout (insert of a real directory tree) reads as its source tree', async (t) => {
    const dir = await tempDir(t);
    const layout = join(dir, 'umoci');
    const tree = join(dir, 'tree');
    await mkdir(join(tree, 'etc'), { recursive: true });
    await mkdir(join(tree, 'var/lib/dpkg'), { recursive: true });
    await mkdir(join(tree, 'usr/lib'), { recursive: true });
    await writeFile(join(tree, 'usr/lib/os-release'), 'ID=umoci\n');
    await symlink('../usr/lib/os-release', join(tree, 'etc/os-release'));
    await writeFile(join(tree, 'var/lib/dpkg/status'), 'Package: from-umoci\n');
    await run('umoci', ['init', '--layout', layout]);
    await run('umoci', ['new', '--image', `${layout}:t`]);
    await run('umoci', ['insert', '--rootless', '--image', `${layout}:t`, tree, '/']);
    const fromLayout = await walked(`oci:${layout}:t`);
    const fromDir = await walked(`dir:${tree}`);
    assert.deepEqual(fromLayout.files, fromDir.files);
    assert.deepEqual(fromLayout.files, {
      '/etc/os-release': 'ID=umoci\n',
      '/var/lib/dpkg/status': 'Package: from-umoci\n',
    });
    assert.equal(fromLayout.target.layers.length, 1);
  });

  test('GNU tar and pax long names and link targets', async (t) => {
    const dir = await tempDir(t);
    const deep = `${'d'.repeat(90)}/${'e'.repeat(90)}/${'f'.repeat(120)}`;
    await mkdir(join(dir, 'src', deep), { recursive: true });
    await writeFile(join(dir, 'src', deep, 'file.txt'), 'long');
    await symlink(`${deep}/file.txt`, join(dir, 'src', 'link'));
    for (const format of ['gnu', 'pax', 'ustar']) {
      const file = join(dir, `${format}.tar`);
      try {
        await run('tar', ['-C', join(dir, 'src'), `--format=${format}`, '-cf', file, '.']);
      } catch (err) {
        // ustar cannot hold a 120-character name component; GNU tar refuses, which is its answer.
        assert.equal(format, 'ustar', String(err));
        continue;
      }
      const { stat } = await import('node:fs/promises');
      const reader = new TarReader(await FileRangeSource.open(file, 0, (await stat(file)).size), {
        maxEntryBytes: 1 << 30,
      });
      const seen = new Map<string, string>();
      for (let e = await reader.next(); e; e = await reader.next()) {
        seen.set(e.name.replace(/^\.\//, ''), e.type === 'file' ? (await reader.content(e)).toString() : e.linkname);
      }
      assert.equal(seen.get(`${deep}/file.txt`), 'long', format);
      assert.equal(seen.get('link'), `${deep}/file.txt`, format);
    }
  });
});
