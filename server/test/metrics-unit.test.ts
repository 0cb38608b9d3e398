import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  baseOf,
  type FixFacts,
  fixKind,
  type ImageLayer,
  isoWeekName,
  LADING_PATCH_CREATED_BY,
  lastCompleteWeek,
  type ProvenanceFacts,
  provenanceFacts,
  weekOfName,
  weekStart,
} from '../src/metrics/index.js';

// The pure parts of the metrics: fix kinds (PIPELINE.md 3.2 (d), first match wins), where an image's base ends,
// what a provenance says of the base, and ISO week arithmetic.

const base: FixFacts = {
  osPackage: true,
  inBaseBefore: true,
  inBaseAfter: true,
  baseChanged: true,
  baseRenamed: false,
  osChanged: false,
  removed: false,
  ladingPatched: false,
};

describe('fixKind', () => {
  it('an OS package of the base, fixed by a new base: a rebuild of the same base, a bump to another one', () => {
    assert.equal(fixKind(base), 'base-rebuild');
    assert.equal(fixKind({ ...base, osChanged: true }), 'base-bump');
    assert.equal(fixKind({ ...base, baseRenamed: true }), 'base-bump');
    // a new base that dropped the package is still the base's doing
    assert.equal(fixKind({ ...base, removed: true, inBaseAfter: undefined }), 'base-rebuild');
    // where the package sits after is unknown: the base still changed under it
    assert.equal(fixKind({ ...base, inBaseAfter: null }), 'base-rebuild');
  });
  it('the same base with the fixed version in the build own layers: an explicit upgrade', () => {
    assert.equal(fixKind({ ...base, baseChanged: false, inBaseAfter: false }), 'explicit-upgrade');
    assert.equal(fixKind({ ...base, inBaseAfter: false }), 'explicit-upgrade');
    // a package the build itself installed is not the base's, whatever the base did
    assert.equal(fixKind({ ...base, inBaseBefore: false }), 'explicit-upgrade');
    // nothing says where the base ended: not claimed for the base
    assert.equal(fixKind({ ...base, inBaseBefore: null }), 'explicit-upgrade');
  });
  it('a package gone without a base change: a removal', () => {
    assert.equal(fixKind({ ...base, baseChanged: false, removed: true, inBaseAfter: undefined }), 'removal');
    assert.equal(fixKind({ ...base, osPackage: false, removed: true, inBaseAfter: undefined }), 'removal');
  });
  it('a language package upgraded: an application dependency, wherever its layer', () => {
    assert.equal(fixKind({ ...base, osPackage: false }), 'app-dependency');
    assert.equal(fixKind({ ...base, osPackage: false, inBaseBefore: false, inBaseAfter: false }), 'app-dependency');
  });
  it('a fixed version that Lading patch installed: lading-patch, before any other kind', () => {
    assert.equal(fixKind({ ...base, ladingPatched: true, baseChanged: false, inBaseAfter: false }), 'lading-patch');
    assert.equal(fixKind({ ...base, ladingPatched: true, osChanged: true }), 'lading-patch');
  });
});

const layer = (n: number, createdBy: string | null = null): ImageLayer => ({
  diffId: `sha256:${String(n).padStart(64, '0')}`,
  createdBy,
});

describe('baseOf: where an image base ends', () => {
  const own = [layer(1), layer(2), layer(3)];
  it('from the provenance base image when the server holds it (its layers a prefix of the image)', () => {
    const provenance: ProvenanceFacts = {
      base: { digest: `sha256:${'b'.repeat(64)}`, name: 'docker/alpine@3.19' },
      patchPackages: [],
    };
    assert.deepEqual(baseOf(own, provenance, [layer(1).diffId, layer(2).diffId]), {
      layers: 2,
      digest: `sha256:${'b'.repeat(64)}`,
      name: 'docker/alpine@3.19',
      basis: 'provenance',
    });
    // a held image that is not a prefix is not this image's base: nothing else says, so the extent is unknown
    assert.deepEqual(baseOf(own, provenance, [layer(9).diffId]), {
      layers: null,
      digest: `sha256:${'b'.repeat(64)}`,
      name: 'docker/alpine@3.19',
      basis: 'first-layer',
    });
  });
  it('from the config history of a Lading-patched image: everything below the `lading patch` layers', () => {
    const patched = [...own, layer(4, LADING_PATCH_CREATED_BY)];
    assert.deepEqual(baseOf(patched, undefined, undefined), { layers: 3, basis: 'patch-history' });
  });
  it('from the layers shared with the previous build base', () => {
    const previousBase = { diffIds: [layer(1).diffId] };
    assert.deepEqual(baseOf(own, undefined, undefined, previousBase), { layers: 1, basis: 'shared-layers' });
    assert.deepEqual(baseOf([layer(7), layer(2)], undefined, undefined, previousBase), {
      layers: null,
      basis: 'first-layer',
    });
  });
});

describe('provenanceFacts', () => {
  const statement = (predicate: unknown) => ({ _type: 'https://in-toto.io/Statement/v1', predicate });
  const hex = 'c'.repeat(64);
  it('finds the base image among SLSA v1 dependencies and v0.2 materials, also inside a DSSE envelope', () => {
    const v1 = statement({
      buildDefinition: {
        resolvedDependencies: [
          { uri: 'git+https://github.com/acme/api@refs/heads/main', digest: { gitCommit: 'abc' } },
          { uri: `pkg:docker/alpine@3.19?platform=linux%2Famd64`, digest: { sha256: hex } },
        ],
      },
    });
    assert.deepEqual(provenanceFacts(v1).base, { digest: `sha256:${hex}`, name: 'docker/alpine@3.19' });
    const envelope = {
      payloadType: 'application/vnd.in-toto+json',
      payload: Buffer.from(JSON.stringify(v1)).toString('base64'),
    };
    assert.deepEqual(provenanceFacts(envelope).base, { digest: `sha256:${hex}`, name: 'docker/alpine@3.19' });
    const v02 = statement({ materials: [{ uri: 'docker://debian:12', digest: { sha256: hex } }] });
    assert.deepEqual(provenanceFacts(v02).base, { digest: `sha256:${hex}`, name: 'debian:12' });
  });
  it("reads a Lading pipeline's input image and patched packages", () => {
    const facts = provenanceFacts(
      statement({
        buildDefinition: {
          resolvedDependencies: [
            { uri: 'oci:/tmp/in', digest: { sha256: hex }, annotations: { role: 'input-image' } },
            {
              uri: 'https://dl-cdn.alpinelinux.org/alpine/v3.16/main/x86_64/libssl1.1-1.1.1t-r0.apk',
              name: 'libssl1.1_1.1.1t-r0_x86_64',
              digest: { sha256: 'd'.repeat(64) },
              annotations: { role: 'patch-package' },
            },
          ],
        },
      }),
    );
    assert.deepEqual(facts, { base: { digest: `sha256:${hex}`, name: 'oci:/tmp/in' }, patchPackages: ['libssl1.1'] });
  });
  it('says nothing of documents it cannot read', () => {
    assert.deepEqual(provenanceFacts(null), { patchPackages: [] });
    assert.deepEqual(provenanceFacts({ payload: '%%%' }), { patchPackages: [] });
    assert.deepEqual(provenanceFacts(statement('not an object')), { patchPackages: [] });
  });
});

describe('ISO weeks', () => {
  it('names weeks by ISO 8601 numbering, across year ends', () => {
    assert.equal(isoWeekName(Date.UTC(2026, 10, 23)), '2026-W48');
    assert.equal(isoWeekName(Date.UTC(2026, 11, 28)), '2026-W53'); // 2026 starts on a Thursday: 53 weeks
    assert.equal(isoWeekName(Date.UTC(2027, 0, 4)), '2027-W01');
    assert.equal(isoWeekName(Date.UTC(2024, 11, 30)), '2025-W01'); // Monday 30 Dec 2024 starts 2025's week 1
  });
  it('reads a week name back to its Monday, refusing weeks that do not exist', () => {
    assert.equal(weekOfName('2026-W48'), Date.UTC(2026, 10, 23));
    assert.equal(weekOfName('2025-W01'), Date.UTC(2024, 11, 30));
    assert.equal(weekOfName('2026-W53'), Date.UTC(2026, 11, 28));
    assert.equal(weekOfName('2025-W53'), undefined); // 2025 has 52 weeks
    assert.equal(weekOfName('2026-W00'), undefined);
    assert.equal(weekOfName('2026-48'), undefined);
    assert.equal(weekOfName('2026-W4'), undefined);
  });
  it('the week of a time starts on its Monday; the last complete week ends at the latest Monday midnight', () => {
    assert.equal(weekStart(Date.UTC(2026, 11, 6, 23, 59)), Date.UTC(2026, 10, 30)); // Sunday → the Monday before
    assert.equal(weekStart(Date.UTC(2026, 10, 30, 0, 0)), Date.UTC(2026, 10, 30));
    // Monday 06:00, the schedule's tick: the week that ended at 00:00 that day
    assert.equal(lastCompleteWeek(Date.UTC(2026, 10, 30, 6)), Date.UTC(2026, 10, 23));
  });
});
