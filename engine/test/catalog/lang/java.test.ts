import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_LIMITS } from '../../../src/catalog/cataloger.js';
import { javaArchiveCataloger } from '../../../src/catalog/lang/java/cataloger.js';
import { runCatalogers } from '../../../src/catalog/run.js';
import type { WantedFile, WantedFiles } from '../../../src/image/file.js';
import { ENGINE_ROOT } from '../../helpers/paths.js';
import { wantedFiles, wantedFromDir } from '../../helpers/wanted-files.js';
import { buildZip } from './zip-writer.js';

const FIXTURES = join(ENGINE_ROOT, 'test/fixtures/catalog/lang/java');
const env = { limits: DEFAULT_LIMITS };
const fixture = (name: string) => readFile(join(FIXTURES, name));

/** As the walk keeps it: condensed by the cataloger. */
function condensed(path: string, raw: Buffer): WantedFiles {
  const content = javaArchiveCataloger.condense?.(path, raw) ?? raw;
  const file: WantedFile = {
    path,
    layer: 'sha256:l1',
    meta: { size: raw.length, mode: 0o644, type: 'file' },
    content,
    condensedBy: 'java-archive',
  };
  return new Map([[path, file]]);
}

// The pom.properties Maven wrote into log4j-core 2.14.1 (Maven Central).
const LOG4J_POM =
  '#Created by Apache Maven 3.6.3\nversion=2.14.1\ngroupId=org.apache.logging.log4j\nartifactId=log4j-core\n';

describe('java archives', () => {
  it('reads pom.properties, a manifest section and the file name from real jars', async () => {
    const files = await wantedFromDir(FIXTURES, javaArchiveCataloger);
    assert.equal(files.size, 3);
    const { packages, warnings } = await javaArchiveCataloger.catalog(files, env);
    assert.deepEqual(warnings, []);
    const got = packages.map((p) => [p.name, p.version, p.purl, p.metadata?.['java.source'], p.locations[0]?.path]);
    assert.deepEqual(got.sort(), [
      [
        'jcip-annotations:jcip-annotations',
        '1.0',
        'pkg:maven/jcip-annotations/jcip-annotations@1.0',
        'file name',
        '/jcip-annotations-1.0.jar',
      ],
      [
        'org.codehaus.mojo:animal-sniffer-annotations',
        '1.14',
        'pkg:maven/org.codehaus.mojo/animal-sniffer-annotations@1.14',
        'pom.properties',
        '/animal-sniffer-annotations-1.14.jar',
      ],
      ['oro:oro', '2.0.8', 'pkg:maven/oro/oro@2.0.8', 'MANIFEST.MF', '/oro-2.0.8.jar'],
    ]);
    assert.equal(packages.find((p) => p.name === 'oro:oro')?.metadata?.['java.vendor'], 'Apache Software Foundation');
    const oro = await fixture('oro-2.0.8.jar');
    assert.deepEqual(packages.find((p) => p.name === 'oro:oro')?.hashes, [
      { alg: 'SHA-1', content: createHash('sha1').update(oro).digest('hex') },
    ]);
  });

  it('warns about a cut pom.properties beside a complete one instead of dropping it silently', async () => {
    const jar = buildZip([
      {
        name: 'META-INF/maven/com.acme/app-core/pom.properties',
        data: 'groupId=com.acme\nartifactId=app-core\nversion=3.2.1\n',
      },
      { name: 'META-INF/maven/com.acme/app-util/pom.properties', data: 'groupId=com.acme\nartifactId=app-ut' },
    ]);
    const { packages, warnings } = await javaArchiveCataloger.catalog(condensed('/srv/app.jar', jar), env);
    assert.deepEqual(
      packages.map((p) => p.purl),
      ['pkg:maven/com.acme/app-core@3.2.1'],
    );
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.path, '/srv/app.jar');
    assert.match(warnings[0]?.message ?? '', /app-util\/pom\.properties: no valid artifactId and version/);
  });

  it('finds jars nested in a war nested in an ear, with bang paths, and every shaded pom', async () => {
    const real = await fixture('animal-sniffer-annotations-1.14.jar');
    const shaded = buildZip([
      { name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\n' },
      {
        name: 'META-INF/maven/com.acme/app-core/pom.properties',
        data: 'groupId=com.acme\nartifactId=app-core\nversion=3.2.1\n',
      },
      { name: 'META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties', data: LOG4J_POM },
    ]);
    const war = buildZip([
      { name: 'WEB-INF/web.xml', data: '<web-app/>' },
      { name: 'WEB-INF/lib/animal-sniffer-annotations-1.14.jar', data: real, store: true },
      { name: 'WEB-INF/lib/app-core-3.2.1.jar', data: shaded },
    ]);
    const ear = buildZip([{ name: 'shop-1.0.war', data: war }]);
    const { packages, warnings } = await javaArchiveCataloger.catalog(condensed('/srv/shop.ear', ear), env);
    assert.deepEqual(warnings, []);
    const got = packages.map((p) => `${p.purl} ${p.locations[0]?.path}`).sort();
    assert.deepEqual(
      got,
      [
        'pkg:maven/com.acme/app-core@3.2.1 /srv/shop.ear!/shop-1.0.war!/WEB-INF/lib/app-core-3.2.1.jar',
        'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1 /srv/shop.ear!/shop-1.0.war!/WEB-INF/lib/app-core-3.2.1.jar',
        'pkg:maven/org.codehaus.mojo/animal-sniffer-annotations@1.14 /srv/shop.ear!/shop-1.0.war!/WEB-INF/lib/animal-sniffer-annotations-1.14.jar',
        'pkg:maven/shop/shop@1.0 /srv/shop.ear!/shop-1.0.war',
      ].sort(),
    );
    for (const p of packages) assert.equal(p.locations[0]?.layer, 'sha256:l1');
    // A shaded jar's hash is not any one of its artifacts'.
    assert.equal(packages.find((p) => p.name.endsWith(':log4j-core'))?.hashes, undefined);
    assert.equal(
      packages.find((p) => p.name.endsWith(':animal-sniffer-annotations'))?.hashes?.[0]?.content,
      createHash('sha1').update(real).digest('hex'),
    );
  });

  it('stops at the nesting limit with a warning', async () => {
    let inner = buildZip([
      { name: 'META-INF/maven/g/deep/pom.properties', data: 'groupId=g\nartifactId=deep\nversion=1\n' },
    ]);
    for (let i = 0; i < 8; i++) inner = buildZip([{ name: `lib/level${i}-1.0.jar`, data: inner }]);
    const { packages, warnings } = await javaArchiveCataloger.catalog(condensed('/app/outer-1.0.jar', inner), env);
    assert.equal(packages.length, DEFAULT_LIMITS.maxArchiveDepth + 1);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]?.message ?? '', /nesting deeper than 5/);
    assert.ok(!packages.some((p) => p.name === 'g:deep'));
  });

  it('caps inflated bytes: a zip bomb becomes a warning', async () => {
    const bomb = buildZip([
      { name: 'META-INF/maven/g/a/pom.properties', data: 'groupId=g\nartifactId=a\nversion=1\n' },
      { name: 'lib/bomb-1.0.jar', data: Buffer.alloc(32 * 1024 * 1024) },
    ]);
    assert.ok(bomb.length < 64 * 1024);
    const limits = { ...DEFAULT_LIMITS, maxInflateBytes: 4 * 1024 * 1024 };
    const started = Date.now();
    const { packages, warnings } = await javaArchiveCataloger.catalog(wantedFiles({ '/app/a-1.jar': bomb }), {
      limits,
    });
    assert.ok(Date.now() - started < 2000);
    assert.deepEqual(
      packages.map((p) => p.purl),
      ['pkg:maven/g/a@1'],
    );
    assert.match(warnings[0]?.message ?? '', /exceeds the inflate limit/);
  });

  it('reports a forged archive in a few warnings, not one per entry', async () => {
    const entries = Array.from({ length: 500 }, (_, i) => ({ name: `lib/x${i}-1.jar`, data: 'not a zip' }));
    const { warnings } = await javaArchiveCataloger.catalog(condensed('/app/many-1.0.war', buildZip(entries)), env);
    assert.equal(warnings.length, 21);
    assert.match(warnings[20]?.message ?? '', /480 more problems/);
  });

  it('turns garbage, truncation and corruption into warnings (fast-check)', async () => {
    const real = await fixture('animal-sniffer-annotations-1.14.jar');
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: real.length }),
        fc.array(fc.tuple(fc.nat({ max: real.length - 1 }), fc.nat({ max: 255 })), { maxLength: 10 }),
        async (cut, flips) => {
          const copy = Buffer.from(real);
          for (const [at, v] of flips) copy[at] = v;
          const files = wantedFiles({ '/x-1.0.jar': copy.subarray(0, cut) });
          const { packages, warnings } = await javaArchiveCataloger.catalog(files, env);
          assert.ok(packages.length + warnings.length >= 1, 'either a package or a warning, never silence');
        },
      ),
      { numRuns: 150 },
    );
  });

  it('is reached through runCatalogers with the archive path as the location', async () => {
    const inv = await runCatalogers(wantedFiles({ '/opt/oro-2.0.8.jar': await fixture('oro-2.0.8.jar') }), [
      javaArchiveCataloger,
    ]);
    assert.deepEqual(
      inv.packages.map((p) => [p.purl, p.locations[0]?.path]),
      [['pkg:maven/oro/oro@2.0.8', '/opt/oro-2.0.8.jar']],
    );
  });
});
