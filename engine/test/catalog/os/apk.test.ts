import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_LIMITS } from '../../../src/catalog/cataloger.js';
import { apkCataloger } from '../../../src/catalog/os/apk/cataloger.js';
import { parseInstalled } from '../../../src/catalog/os/apk/installed-file.js';
import type { WantedFile, WantedFiles } from '../../../src/image/file.js';
import type { OsInfo } from '../../../src/model/os.js';
import { wantedFiles } from '../../helpers/wanted-files.js';

const FIXTURES = new URL('../../fixtures/catalog/os/apk/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES));
const ALPINE: OsInfo = { family: 'alpine', version: '3.19.1', ecosystem: 'Alpine:v3.19' };
const DB = '/lib/apk/db/installed';

async function catalog(files: WantedFiles, os?: OsInfo) {
  return apkCataloger.catalog(files, os ? { os, limits: DEFAULT_LIMITS } : { limits: DEFAULT_LIMITS });
}

/** The oracle for these real databases: each paragraph's own P:/V:/o: lines, read independently of the parser. */
function paragraphs(text: string): { P?: string; V?: string; o?: string }[] {
  return text
    .split(/\n\s*\n/)
    .map((p) =>
      Object.fromEntries(
        p
          .split('\n')
          .filter((l) => /^[PVo]:/.test(l))
          .map((l) => [l[0], l.slice(2)]),
      ),
    )
    .filter((p) => p['P'] !== undefined);
}

describe('apk installed database', () => {
  for (const name of ['trivy-installed', 'syft-multiple-2-installed']) {
    it(`reads every complete paragraph of ${name}`, async () => {
      const text = fixture(name).toString('utf8');
      const expected = paragraphs(text)
        .filter((p) => p.V !== undefined)
        .map((p) => `${p.P} ${p.V} ${p.o ?? ''}`)
        .sort();
      const { packages } = await catalog(wantedFiles({ [DB]: text }), ALPINE);
      assert.deepEqual(packages.map((p) => `${p.name} ${p.version} ${p.source?.name ?? ''}`).sort(), expected);
    });
  }

  it('warns about the paragraph without a version and keeps the rest', async () => {
    const { packages, warnings } = await catalog(wantedFiles({ [DB]: fixture('trivy-installed') }), ALPINE);
    assert.equal(packages.length, 15);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]?.message ?? '', /invalidPackageWithoutAVersion has no V:/);
  });

  it('builds purls, origin as source, licenses, owned files from F:/R: and resolves D: through p:', async () => {
    const { packages } = await catalog(wantedFiles({ [DB]: fixture('syft-multiple-2-installed') }), ALPINE);
    const busybox = packages.find((p) => p.name === 'busybox');
    assert.equal(busybox?.purl, 'pkg:apk/alpine/busybox@1.35.0-r17?arch=x86_64&distro=alpine-3.19.1');
    assert.deepEqual(busybox?.source, { name: 'busybox' });
    assert.deepEqual(busybox?.licenses, ['GPL-2.0-only']);
    assert.deepEqual(busybox?.dependsOn, ['musl'], 'so:libc.musl-x86_64.so.1 is provided by musl');
    assert.ok(busybox?.ownedFiles?.includes('/bin/busybox'));
    assert.ok(busybox?.ownedFiles?.includes('/bin'), 'F: directories are listed too');
    const layout = packages.find((p) => p.name === 'alpine-baselayout');
    // D:alpine-baselayout-data=3.2.0-r22 /bin/sh so:libc.musl-x86_64.so.1
    assert.deepEqual(layout?.dependsOn, ['alpine-baselayout-data', 'busybox', 'musl']);
    const wolfi = await catalog(wantedFiles({ [DB]: fixture('syft-multiple-2-installed') }), {
      family: 'wolfi',
      version: '20230201',
    });
    assert.match(wolfi.packages[0]?.purl ?? '', /^pkg:apk\/wolfi\/.*distro=wolfi-20230201/);
  });

  it('reads /usr/lib/apk/db/installed too, past an empty /lib/apk link', async () => {
    const { packages } = await catalog(
      wantedFiles({ [DB]: '', '/usr/lib/apk/db/installed': fixture('syft-multiple-2-installed') }),
    );
    assert.equal(packages.length, 14);
    assert.equal(packages[0]?.locations[0]?.path, '/usr/lib/apk/db/installed');
  });

  it('attributes packages to the layer that added or upgraded them', async () => {
    const base = 'P:musl\nV:1.2.3-r0\n\nP:busybox\nV:1.35.0-r17\n';
    const top = 'P:musl\nV:1.2.3-r1\n\nP:busybox\nV:1.35.0-r17\n\nP:curl\nV:8.5.0-r0\n';
    const file: WantedFile = {
      path: DB,
      layer: 'sha256:top',
      meta: { size: top.length, mode: 0o644, type: 'file' },
      content: Buffer.from(top),
      history: [{ layer: 'sha256:base', content: Buffer.from(base) }],
    };
    const { packages } = await catalog(new Map([[DB, file]]));
    const layer = (name: string) => packages.find((p) => p.name === name)?.locations[0]?.layer;
    assert.deepEqual([layer('busybox'), layer('musl'), layer('curl')], ['sha256:base', 'sha256:top', 'sha256:top']);
  });

  it('warns about duplicates and survives truncation and arbitrary bytes', async () => {
    const dup = await catalog(wantedFiles({ [DB]: 'P:a\nV:1\n\nP:a\nV:2\n' }));
    assert.deepEqual(
      dup.packages.map((p) => p.version),
      ['1'],
    );
    assert.match(dup.warnings[0]?.message ?? '', /duplicate/);
    const text = fixture('trivy-installed');
    for (let cut = 0; cut < text.length; cut += 101) {
      const r = await catalog(wantedFiles({ [DB]: text.subarray(0, cut) }));
      for (const p of r.packages) assert.ok(p.name && p.version);
    }
    fc.assert(fc.property(fc.string({ maxLength: 1000 }), (s) => Array.isArray(parseInstalled(s))));
  });

  it('skips a record that repeats P:/V: or is cut inside one, with a warning, never a wrong package', async () => {
    const text = 'P:musl\nV:1.2.4-r2\nA:x86_64\nP:\u0000\u00ff\n\nP:zlib\nV:1.3-r0\n\nP:curl\nV:8.5.0-r';
    const { packages, warnings } = await catalog(wantedFiles({ [DB]: text }));
    assert.deepEqual(
      packages.map((p) => `${p.name}@${p.version}`),
      ['zlib@1.3-r0'],
    );
    assert.deepEqual(
      warnings.map((w) => [w.path, w.message]),
      [
        [DB, 'line 1: record for musl repeats P:; skipped'],
        [DB, 'line 9: record for curl is incomplete: file ends inside its V: line (truncated?); skipped'],
      ],
    );
  });

  it('never drops a record silently nor reports a cut version, at any truncation point', async () => {
    const text = fixture('syft-multiple-2-installed');
    const full = new Map((await catalog(wantedFiles({ [DB]: text }))).packages.map((p) => [p.name, p.version]));
    for (let cut = 0; cut < text.length; cut += 7) {
      const prefix = text.subarray(0, cut);
      const r = await catalog(wantedFiles({ [DB]: prefix }));
      for (const p of r.packages) assert.equal(p.version, full.get(p.name), `cut at ${cut}: ${p.name}`);
      const reported = new Set(r.packages.map((p) => p.name));
      const said = r.warnings.map((w) => w.message).join('\n');
      for (const m of prefix.toString('utf8').matchAll(/^P:(.+)$/gm)) {
        const name = m[1] ?? '';
        assert.ok(reported.has(name) || said.includes(name), `cut at ${cut}: ${name} dropped silently`);
      }
    }
  });

  it('warns instead of reporting an invalid name, version or architecture', async () => {
    const text = 'P:ok\nV:1.0-r0\n\nP:bad name\nV:1\n\nP:badver\nV:1.0\u001b[31m\n\nP:badarch\nV:1\nA:x86 64\n\n';
    const { packages, warnings } = await catalog(wantedFiles({ [DB]: text }));
    assert.deepEqual(
      packages.map((p) => p.name),
      ['ok'],
    );
    const said = warnings.map((w) => w.message).join('\n');
    assert.equal(warnings.length, 3, said);
    assert.match(
      said,
      /invalid package name "bad name"[\s\S]*badver has an invalid version "1.0\\u001b\[31m"[\s\S]*badarch has an invalid architecture/,
    );
  });
});
