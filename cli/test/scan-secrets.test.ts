// `lading scan` reports secrets found in any layer, redacted, in JSON and the table; --no-secrets turns the scanner
// off; `lading sbom` never runs it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from '../../engine/test/helpers/cli.js';
import { buildImage } from '../../engine/test/helpers/images.js';
import { tempDir } from '../../engine/test/helpers/tmp.js';

// Built from pieces so this file is no credential itself.
const GHP = `${'ghp'}_${'R2u9xK4mPq7sT1vW3yZ5bC8dF0gH6jL2nQ4r'}`;

describe('lading scan: secrets', () => {
  test('a token written in one layer and deleted in the next is reported redacted; --no-secrets drops the field', async (t) => {
    const built = await buildImage(await tempDir(t), {
      layers: [
        [{ type: 'file', path: '/app/.npmrc', content: `//npm.pkg.github.com/:_authToken=${GHP}\n` }],
        [{ type: 'whiteout', path: '/app/.npmrc' }],
      ],
    });
    const args = ['scan', `oci:${built.ociDir}`, '--sbom-only', '--no-cache'];
    const json = await runCli([...args, '-o', 'json']);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(json.stdout.includes(GHP), false);
    const report = JSON.parse(json.stdout);
    assert.deepEqual(
      report.secrets.map((s: Record<string, unknown>) => [s.ruleId, s.path, s.redacted, s.layer, s.removedIn]),
      [['github-pat', '/app/.npmrc', 'ghp_…(40)', built.diffIds[0], built.diffIds[1]]],
    );
    const table = await runCli([...args, '-o', 'table']);
    assert.equal(table.code, 0, table.stderr);
    assert.equal(table.stdout.includes(GHP), false);
    assert.match(table.stdout, /1 secret found/);
    assert.match(table.stdout, /github-pat +\/app\/\.npmrc:1 +ghp_…\(40\) +\w{12} \(deleted in \w{12}\)/);

    const off = await runCli([...args, '-o', 'json', '--no-secrets']);
    assert.equal(off.code, 0, off.stderr);
    assert.equal('secrets' in JSON.parse(off.stdout), false);
    const sbom = await runCli(['sbom', `oci:${built.ociDir}`, '--no-cache', '-o', 'cyclonedx-json']);
    assert.equal(sbom.code, 0, sbom.stderr);
    assert.equal(sbom.stdout.includes('ghp_'), false);
  });
});
