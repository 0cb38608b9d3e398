import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { buildImage } from '../helpers/images.js';
import { skopeoCopy, startRegistry } from '../helpers/registry.js';
import { tempDir } from '../helpers/tmp.js';

const run = promisify(execFile);
const LAYERS = [[{ type: 'file' as const, path: '/etc/os-release', content: 'ID=debian\n' }]];

describe('progress on stderr', () => {
  test('silent when stderr is not a terminal', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: LAYERS });
    const r = await runCli(['sbom', `oci:${built.ociDir}`, '-o', 'cyclonedx-json=/dev/null']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /reading layers/);
  });

  test('shown when stderr is a terminal (run under a pseudo-terminal)', async (t) => {
    const built = await buildImage(await tempDir(t), { layers: LAYERS });
    const cli = `${process.execPath} --conditions=source --import tsx cli/src/bin.ts sbom oci:${built.ociDir} -o cyclonedx-json=/dev/null`;
    // `script` gives the child a real pty, so process.stderr.isTTY is true there as it would be for a user.
    const { stdout } = await run('script', ['-qec', cli, '/dev/null'], {
      cwd: REPO_ROOT,
      // An empty result cache: a kept catalog of this (deterministic) image would spare the walk being drawn.
      env: { ...process.env, NO_COLOR: '1', LADING_CACHE_DIR: await tempDir(t) },
    });
    assert.match(stdout, /reading layers: 1\/1 done/);
    assert.doesNotMatch(stdout, /downloaded/, 'a local layout downloads nothing');
  });

  test("counts downloaded bytes against the layers' sizes for a registry image", async (t) => {
    const registry = await startRegistry(t);
    const built = await buildImage(await tempDir(t), { layers: LAYERS, tag: 'app:1' });
    await skopeoCopy(`oci:${built.ociDir}:1`, `docker://${registry.host}/team/app:1`);
    const cli = `${process.execPath} --conditions=source --import tsx cli/src/bin.ts sbom ${registry.host}/team/app:1 -o cyclonedx-json=/dev/null`;
    const { stdout } = await run('script', ['-qec', cli, '/dev/null'], {
      cwd: REPO_ROOT,
      // An empty result cache: a kept catalog of this (deterministic) image would spare the walk being drawn.
      env: { ...process.env, NO_COLOR: '1', LADING_CACHE_DIR: await tempDir(t) },
    });
    // Every byte of the one layer was fetched: the last line shows all of them as downloaded.
    const last =
      stdout
        .split('\r')
        .filter((l) => l.includes('reading layers'))
        .at(-1) ?? '';
    const shown = /1\/1 done, ([\d.]+) of ([\d.]+) MiB downloaded, [\d.]+ MiB read/.exec(last);
    assert.ok(shown, `progress line: ${JSON.stringify(stdout)}`);
    assert.equal(shown[1], shown[2]);
  });

  test('counts the bytes of a docker-archive read in place (not 0.0 MiB read throughout)', async (t) => {
    const big = Buffer.alloc(3 * 1024 * 1024, 'lading');
    const built = await buildImage(await tempDir(t), {
      layers: [[...LAYERS[0]!, { type: 'file' as const, path: '/opt/big.bin', content: big }]],
    });
    const cli = `${process.execPath} --conditions=source --import tsx cli/src/bin.ts sbom docker-archive:${built.dockerArchive} -o cyclonedx-json=/dev/null`;
    const { stdout } = await run('script', ['-qec', cli, '/dev/null'], {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1', LADING_CACHE_DIR: await tempDir(t) },
    });
    const last =
      stdout
        .split('\r')
        .filter((l) => l.includes('reading layers'))
        .at(-1) ?? '';
    const shown = /1\/1 done, ([\d.]+) MiB read/.exec(last);
    assert.ok(shown, `progress line: ${JSON.stringify(stdout)}`);
    assert.ok(Number(shown[1]) >= 3, `the 3 MiB layer counts as read: ${last}`);
  });
});
