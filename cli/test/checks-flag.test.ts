import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../../engine/test/helpers/cli.js';
import { tempDir } from '../../engine/test/helpers/tmp.js';
import { umociImage } from '../../engine/test/helpers/umoci-images.js';

describe('image checks on the command line', () => {
  it('scan -o json reports misconfigurations; --no-checks leaves them out; the table shows them', async (t) => {
    const dir = await tempDir(t);
    const spec = await umociImage(dir, { user: '' });
    const args = ['scan', spec, '--sbom-only', '--offline', '-q'];
    const json = await runCli([...args, '-o', 'json']);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(
      JSON.parse(json.stdout).misconfigurations.map((m: { id: string }) => m.id),
      ['IMG-001'],
    );
    const off = await runCli([...args, '-o', 'json', '--no-checks']);
    assert.equal(off.code, 0, off.stderr);
    assert.equal('misconfigurations' in JSON.parse(off.stdout), false);
    const table = await runCli(args);
    assert.match(
      table.stdout,
      /1 image check failed\n\nCHECK +SEVERITY +TITLE +EVIDENCE\n.*\nIMG-001 +HIGH +Runs as root +no USER: runs as root\n/,
    );
  });
});
