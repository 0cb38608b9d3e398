// The secret scanner in the scan's one walk: every layer is read, a secret deleted by a later layer is reported
// with both layers, vendor content (dpkg md5sums, apk Z:) and package test fixtures are not findings, and the
// secret is redacted in every output.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { renderMarkdown } from '../../src/report/markdown.js';
import { DEFAULT_RENDER_OPTIONS } from '../../src/report/render-options.js';
import { renderSarif } from '../../src/report/sarif.js';
import { renderTable } from '../../src/report/table.js';
import { scan } from '../../src/scan/scan.js';
import { buildImage, type LayerSpec } from '../helpers/images.js';
import { readOfficialSchema } from '../helpers/official-schemas.js';
import { assertValidReport } from '../helpers/report-schema.js';
import { tempDir } from '../helpers/tmp.js';

const NOW = new Date('2026-12-01T00:00:00Z');
// Built from pieces so this file is no credential itself.
const GHP = `${'ghp'}_${'R2u9xK4mPq7sT1vW3yZ5bC8dF0gH6jL2nQ4r'}`;
const GLPAT = `${'glpat'}-${'x7Kq2LmN9pR4sT6vW8yZ'}`;
const KEY_BODY = 'MIIEpAIBAAKCAQEAx7Vq3Lm9Kp2Rt5Wz8Yb1Nc4Df6Gh0Jk'.repeat(3);
const PEM = `-----BEGIN RSA PRIVATE KEY-----\n${KEY_BODY}\n-----END RSA PRIVATE KEY-----\n`;
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

async function scanLayers(t: Parameters<typeof tempDir>[0], layers: LayerSpec[], secrets = true) {
  const dir = await tempDir(t);
  const built = await buildImage(dir, { layers, config: { user: 'app' } });
  return scan(`oci:${built.ociDir}`, { sbomOnly: true, dbDir: dir, now: NOW, secrets, checks: false });
}

describe('secrets in layers', () => {
  test('a secret in an application file is reported with its layer, line, rule and a redacted match', async (t) => {
    const report = await scanLayers(t, [
      [{ type: 'file', path: '/app/.env', content: `# app\nGITHUB_TOKEN=${GHP}\n` }],
    ]);
    assertValidReport(report);
    assert.equal(report.secrets?.length, 1);
    const [s] = report.secrets ?? [];
    assert.equal(s?.ruleId, 'github-pat');
    assert.equal(s?.path, '/app/.env');
    assert.equal(s?.line, 2);
    assert.equal(s?.redacted, 'ghp_…(40)');
    assert.equal(s?.layer, report.target.layers[0]?.diffId);
    assert.equal(s?.removedIn, undefined);
    // Never in full, in any output.
    const outputs = [
      JSON.stringify(report),
      renderTable(report, { ...DEFAULT_RENDER_OPTIONS, color: false }),
      renderMarkdown(report, DEFAULT_RENDER_OPTIONS),
      renderSarif(report, DEFAULT_RENDER_OPTIONS),
    ];
    for (const out of outputs) {
      assert.equal(out.includes(GHP), false);
      assert.equal(out.includes(GHP.slice(4, 20)), false);
    }
    assert.match(outputs[1] as string, /ghp_…\(40\)/);
    assert.match(outputs[2] as string, /ghp_…\(40\)/);
    const sarif = JSON.parse(outputs[3] as string);
    const ajv = new AjvDraft04.default({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const validate = ajv.compile<typeof sarif>(readOfficialSchema('sarif-2.1.0.schema.json'));
    assert.ok(validate(sarif), JSON.stringify(validate.errors?.slice(0, 3)));
    const results = sarif.runs[0].results.filter((r: { ruleId: string }) => r.ruleId === 'LADING-SECRET-github-pat');
    assert.equal(results.length, 1);
    assert.match(results[0].message.text, /ghp_…\(40\)/);
  });

  test('a secret added in layer 1 and deleted in layer 2 is reported with both layers', async (t) => {
    const report = await scanLayers(t, [
      [{ type: 'file', path: '/root/.ssh/id_rsa', content: PEM }],
      [{ type: 'whiteout', path: '/root/.ssh/id_rsa' }],
      [{ type: 'file', path: '/app/build.sh', content: `echo ${GLPAT} > /tmp/t\n` }],
      [{ type: 'file', path: '/app/build.sh', content: 'echo done\n' }],
    ]);
    const layers = report.target.layers.map((l) => l.diffId);
    const byPath = new Map((report.secrets ?? []).map((s) => [s.path, s]));
    assert.deepEqual(
      { layer: byPath.get('/root/.ssh/id_rsa')?.layer, removedIn: byPath.get('/root/.ssh/id_rsa')?.removedIn },
      { layer: layers[0], removedIn: layers[1] },
    );
    assert.equal(byPath.get('/root/.ssh/id_rsa')?.ruleId, 'private-key');
    // Overwritten rather than deleted: removed by the layer that replaced the file.
    assert.deepEqual(
      { layer: byPath.get('/app/build.sh')?.layer, removedIn: byPath.get('/app/build.sh')?.removedIn },
      { layer: layers[2], removedIn: layers[3] },
    );
  });

  test('a file rewritten with the same secret by a later layer is one finding from its first layer', async (t) => {
    const report = await scanLayers(t, [
      [{ type: 'file', path: '/app/.env', content: `T=${GHP}\n` }],
      [{ type: 'file', path: '/app/.env', content: `T=${GHP}\n` }],
    ]);
    assert.equal(report.secrets?.length, 1);
    assert.equal(report.secrets?.[0]?.layer, report.target.layers[0]?.diffId);
    assert.equal(report.secrets?.[0]?.removedIn, undefined);
  });

  test('an OS-package file whose md5 matches dpkg md5sums holds no finding; the same file modified does', async (t) => {
    const shipped = `# test key shipped by the package\n${PEM}`;
    const md5sums = (content: string) => `${md5(content)}  usr/share/ssl-test/key.pem\n`;
    const status = 'Package: ssl-test\nStatus: install ok installed\nVersion: 1.0\nArchitecture: all\n\n';
    const base: LayerSpec = [
      { type: 'file', path: '/var/lib/dpkg/status', content: status },
      { type: 'file', path: '/var/lib/dpkg/info/ssl-test.md5sums', content: md5sums(shipped) },
      { type: 'file', path: '/usr/share/ssl-test/key.pem', content: shipped },
    ];
    const clean = await scanLayers(t, [base]);
    assert.equal('secrets' in clean, false);
    const modified = await scanLayers(t, [
      base,
      [{ type: 'file', path: '/usr/share/ssl-test/key.pem', content: `${shipped}\n` }],
    ]);
    assert.deepEqual(
      (modified.secrets ?? []).map((s) => [s.path, s.layer]),
      [['/usr/share/ssl-test/key.pem', modified.target.layers[1]?.diffId]],
    );
  });

  test('apk Z: checksums mark vendor content too', async (t) => {
    const shipped = `${PEM}`;
    const sha1 = createHash('sha1').update(shipped).digest('base64');
    const db = `P:ssl-test\nV:1.0-r0\nA:x86_64\nF:etc/ssl-test\nR:key.pem\nZ:Q1${sha1}\n\n`;
    const report = await scanLayers(t, [
      [
        { type: 'file', path: '/lib/apk/db/installed', content: db },
        { type: 'file', path: '/etc/ssl-test/key.pem', content: shipped },
      ],
    ]);
    assert.equal('secrets' in report, false);
  });

  test('a package test fixture holds no finding; the same key in the application does', async (t) => {
    const report = await scanLayers(t, [
      [
        { type: 'file', path: '/app/node_modules/tunnel/test/keys/agent1-key.pem', content: PEM },
        { type: 'file', path: '/app/keys/server-key.pem', content: PEM },
      ],
    ]);
    assert.deepEqual(
      (report.secrets ?? []).map((s) => s.path),
      ['/app/keys/server-key.pem'],
    );
  });

  test('with secrets off, the report is as before: no secrets field', async (t) => {
    const report = await scanLayers(t, [[{ type: 'file', path: '/app/.env', content: `T=${GHP}\n` }]], false);
    assert.equal('secrets' in report, false);
  });
});

describe('secrets and the result cache', () => {
  test('a second scan served from the caches (whole result, then layer by layer) reports the same secrets', async (t) => {
    const dir = await tempDir(t);
    const layers: LayerSpec[] = [
      [{ type: 'file', path: '/app/.env', content: `T=${GHP}\n` }],
      [{ type: 'whiteout', path: '/app/.env' }],
    ];
    const built = await buildImage(dir, { layers, compression: 'gzip' });
    const cacheDir = await tempDir(t);
    const run = (cache: boolean, secrets = true) =>
      scan(`oci:${built.ociDir}`, {
        sbomOnly: true,
        dbDir: dir,
        now: NOW,
        checks: false,
        secrets,
        ...(cache ? { cache: { dir: cacheDir } } : {}),
      });
    const fresh = await run(false);
    assert.equal(fresh.secrets?.length, 1);
    const stored = await run(true);
    const reused = await run(true);
    assert.deepEqual(stored.secrets, fresh.secrets);
    assert.deepEqual(reused.secrets, fresh.secrets);
    // With the scanner off, the kept result (made with it) is not reused: no secrets, and none invented.
    assert.equal('secrets' in (await run(true, false)), false);
    // Another image on the same first layer: that layer's kept scan (with its inspected files) is reused.
    const other = await buildImage(await tempDir(t), {
      layers: [layers[0] as LayerSpec, [{ type: 'file', path: '/app/readme.txt', content: 'hello\n' }]],
      compression: 'gzip',
    });
    let fromCache = 0;
    const shared = await scan(`oci:${other.ociDir}`, {
      sbomOnly: true,
      dbDir: dir,
      now: NOW,
      checks: false,
      cache: { dir: cacheDir },
      onProgress: (p) => {
        fromCache = Math.max(fromCache, p.layersFromCache);
      },
    });
    assert.equal(fromCache, 1);
    assert.deepEqual(
      (shared.secrets ?? []).map((s) => [s.path, s.layer, s.removedIn]),
      [['/app/.env', other.diffIds[0], undefined]],
    );
    assert.equal(other.diffIds[0], built.diffIds[0]);
  });
});

describe('secrets in a root filesystem', () => {
  test('dir: targets are scanned too, with no layer', async (t) => {
    const root = await tempDir(t);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(`${root}/app`, { recursive: true });
    await writeFile(`${root}/app/.env`, `# x\nGITHUB_TOKEN=${GHP}\n`);
    await writeFile(`${root}/app/big.txt`, `${'x'.repeat(3 << 20)}\nT=${GHP}\n`);
    const report = await scan(`dir:${root}`, { sbomOnly: true, dbDir: root, now: NOW, checks: false });
    assert.deepEqual(
      (report.secrets ?? []).map((s) => [s.path, s.line, s.redacted, 'layer' in s]),
      [
        ['/app/.env', 2, 'ghp_…(40)', false],
        ['/app/big.txt', 2, 'ghp_…(40)', false],
      ],
    );
  });
});

describe('secrets and the rpm database', () => {
  test('a file whose digest the rpm database records holds no finding; the same file modified does', async (t) => {
    const { execFileSync } = await import('node:child_process');
    const { mkdir, readFile } = await import('node:fs/promises');
    const scratch = await tempDir(t);
    const shipped = `${PEM}`;
    await mkdir(`${scratch}/src`);
    await writeFile(`${scratch}/src/key.pem`, shipped);
    await writeFile(
      `${scratch}/demo.spec`,
      [
        'Name: ssl-test',
        'Version: 1.0',
        'Release: 1',
        'Summary: test key',
        'License: MIT',
        'BuildArch: noarch',
        'AutoReqProv: no',
        '%description',
        'test key',
        '%install',
        'mkdir -p %{buildroot}/etc/ssl-test',
        `cp ${scratch}/src/key.pem %{buildroot}/etc/ssl-test/key.pem`,
        '%files',
        '/etc/ssl-test/key.pem',
        '',
      ].join('\n'),
    );
    execFileSync('rpmbuild', ['--define', `_topdir ${scratch}/top`, '-bb', `${scratch}/demo.spec`], {
      stdio: 'ignore',
    });
    await mkdir(`${scratch}/db`);
    execFileSync('rpm', ['--dbpath', `${scratch}/db`, '--initdb'], { stdio: 'ignore' });
    const rpmFile = `${scratch}/top/RPMS/noarch/ssl-test-1.0-1.noarch.rpm`;
    execFileSync('rpm', ['--dbpath', `${scratch}/db`, '-i', '--justdb', '--nodeps', rpmFile], { stdio: 'ignore' });
    const db = await readFile(`${scratch}/db/rpmdb.sqlite`);
    const base: LayerSpec = [
      { type: 'file', path: '/var/lib/rpm/rpmdb.sqlite', content: db },
      { type: 'file', path: '/etc/ssl-test/key.pem', content: shipped },
    ];
    assert.equal('secrets' in (await scanLayers(t, [base])), false);
    const modified = await scanLayers(t, [
      base,
      [{ type: 'file', path: '/etc/ssl-test/key.pem', content: `${shipped}\n` }],
    ]);
    assert.deepEqual(
      (modified.secrets ?? []).map((s) => s.path),
      ['/etc/ssl-test/key.pem'],
    );
  });
});
