import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_LIMITS } from '../../../src/catalog/cataloger.js';
import { MAX_NESTED_ARCHIVES, scanJavaArchive } from '../../../src/catalog/lang/java/archive.js';
import { buildZip } from './zip-writer.js';

describe('42.zip-style nested Java archives', () => {
  it('12 jars in each jar, four levels down (20,736 archives): reading stops at the cap, and says so first', () => {
    let jar = buildZip([
      {
        name: 'META-INF/maven/org.example/leaf/pom.properties',
        data: 'groupId=org.example\nartifactId=leaf\nversion=1\n',
      },
    ]);
    for (let level = 0; level < 4; level++) {
      jar = buildZip(
        Array.from({ length: 12 }, (_, i) => ({ name: `lib/l${level}-${i}.jar`, data: jar, store: true })),
      );
    }
    const started = Date.now();
    const scan = scanJavaArchive(jar, 'bomb.jar', DEFAULT_LIMITS);
    assert.ok(scan.packages.length <= MAX_NESTED_ARCHIVES + 1, `${scan.packages.length} packages`);
    assert.match(scan.problems[0]?.message ?? '', /more than 10000 nested archives: the rest not read/);
    assert.ok(Date.now() - started < 20_000, `${Date.now() - started} ms`);
  });
});
