// The OCI document model (oci/): what a document is, how manifests and indexes are read, and their limits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isLadingError } from '../../src/errors/lading-error.js';
import {
  documentKind,
  isLayerType,
  layerCompression,
  MAX_MANIFEST_BYTES,
  MEDIA_TYPES,
  parseDescriptor,
  parseImageIndex,
  parseImageManifest,
} from '../../src/oci/index.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const MANIFEST = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPES.ociManifest,
  config: { mediaType: MEDIA_TYPES.ociConfig, digest: DIGEST, size: 2 },
  layers: [{ mediaType: MEDIA_TYPES.ociLayerGzip, digest: DIGEST, size: 3 }],
};
const INDEX = {
  schemaVersion: 2,
  manifests: [
    {
      mediaType: MEDIA_TYPES.ociManifest,
      digest: DIGEST,
      size: 4,
      platform: { os: 'linux', architecture: 'arm', variant: 'v7', 'os.features': ['x'] },
    },
  ],
};

function fails(code: string, message: RegExp) {
  return (err: unknown) => {
    assert.ok(isLadingError(err), String(err));
    assert.equal(err.code, code);
    assert.match(err.message, message);
    assert.ok(!err.message.includes('\n'));
    return true;
  };
}

describe('what a document is', () => {
  it('its own mediaType first, then the declared one, then its shape', () => {
    assert.equal(documentKind(json(MANIFEST), 'm'), 'manifest');
    assert.equal(documentKind(json(INDEX), 'm'), 'index');
    assert.equal(documentKind(json({ ...INDEX, mediaType: MEDIA_TYPES.dockerManifestList }), 'm'), 'index');
    const { mediaType: _, ...bare } = MANIFEST;
    assert.equal(documentKind(json(bare), 'm', MEDIA_TYPES.dockerManifest), 'manifest');
    assert.equal(documentKind(json(bare), 'm', 'application/json'), 'manifest');
    // The digested bytes win over a claim made about them.
    assert.equal(documentKind(json(MANIFEST), 'm', MEDIA_TYPES.ociIndex), 'manifest');
  });

  it('refuses Docker schema 1 and unknown types, saying what they are', () => {
    assert.throws(
      () => documentKind(json({ schemaVersion: 1, name: 'x' }), 'reg/old:1'),
      fails('BAD_INPUT', /^reg\/old:1 is a Docker schema 1 manifest, which Lading does not read/),
    );
    assert.throws(
      () => documentKind(json({ schemaVersion: 2 }), 'm', MEDIA_TYPES.dockerSchema1Signed),
      fails('BAD_INPUT', /schema 1/),
    );
    assert.throws(
      () => documentKind(json({ schemaVersion: 2, mediaType: 'application/x-helm' }), 'm'),
      fails('BAD_INPUT', /^m: unknown manifest media type application\/x-helm$/),
    );
  });
});

describe('manifests and indexes', () => {
  it('reads every descriptor field the specs define, platforms included', () => {
    const manifest = parseImageManifest(json(MANIFEST), 'm');
    assert.deepEqual(manifest.layers, MANIFEST.layers);
    const index = parseImageIndex(json(INDEX), 'i');
    assert.deepEqual(index.manifests[0]?.platform, INDEX.manifests[0]?.platform);
  });

  it('are refused above 4 MiB before being parsed', () => {
    const big = Buffer.alloc(MAX_MANIFEST_BYTES + 1, 0x20);
    for (const parse of [parseImageManifest, parseImageIndex, (b: Buffer, w: string) => documentKind(b, w)]) {
      assert.throws(() => parse(big, 'huge'), fails('LIMIT', /^huge is 4194305 bytes, more than the 4194304/));
    }
  });

  it('name the descriptor that is wrong and why', () => {
    const layer = (l: unknown) => json({ ...MANIFEST, layers: [l] });
    assert.throws(
      () => parseImageManifest(layer({ mediaType: 'x', digest: 'sha256:../../etc', size: 1 }), 'm'),
      fails('BAD_INPUT', /^m layer 0: descriptor is malformed \(invalid digest "sha256:..\/..\/etc"\)$/),
    );
    assert.throws(
      () => parseImageManifest(layer({ mediaType: 'x', digest: DIGEST, size: -1 }), 'm'),
      fails('BAD_INPUT', /descriptor is malformed \(invalid size\)/),
    );
    assert.throws(
      () => parseImageManifest(layer({ digest: DIGEST, size: 1 }), 'm'),
      fails('BAD_INPUT', /descriptor is malformed \(no mediaType\)/),
    );
    assert.throws(
      () => parseDescriptor({ mediaType: 'x', digest: DIGEST, size: 1, annotations: { a: 1 } }, 'd'),
      fails('BAD_INPUT', /^d: descriptor annotations must be an object of strings$/),
    );
    assert.throws(() => parseImageIndex(json({ schemaVersion: 2 }), 'i'), fails('BAD_INPUT', /no manifests list/));
    assert.throws(() => parseImageManifest(json({ ...MANIFEST, schemaVersion: 1 }), 'm'), /schemaVersion is not 2/);
  });

  it('never throw anything but a one-line LadingError on any input (property)', () => {
    const input = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }).map((v) => json(v)),
      fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
    );
    fc.assert(
      fc.property(input, (bytes) => {
        for (const parse of [parseImageManifest, parseImageIndex, (b: Buffer, w: string) => documentKind(b, w)]) {
          try {
            parse(bytes, 'doc');
          } catch (err) {
            assert.ok(isLadingError(err) && !err.message.includes('\n'), String(err));
          }
        }
      }),
    );
  });
});

describe('layer media types', () => {
  it('say their compression; non-layers are not layers', () => {
    const cases: [string, string | undefined][] = [
      [MEDIA_TYPES.ociLayer, 'none'],
      [MEDIA_TYPES.ociLayerGzip, 'gzip'],
      [MEDIA_TYPES.ociLayerZstd, 'zstd'],
      [MEDIA_TYPES.ociLayerNondistributableGzip, 'gzip'],
      [MEDIA_TYPES.dockerLayerGzip, 'gzip'],
      [MEDIA_TYPES.dockerForeignLayerGzip, 'gzip'],
      ['application/vnd.docker.image.rootfs.diff.tar', 'none'],
      ['application/vnd.oci.image.layer.v1.tar+gzip+encrypted', undefined],
      [MEDIA_TYPES.ociConfig, undefined],
      ['application/vnd.dsse.envelope.v1+json', undefined],
    ];
    for (const [type, compression] of cases) assert.equal(layerCompression(type), compression, type);
    assert.ok(isLayerType('application/vnd.oci.image.layer.v1.tar+gzip+encrypted'), 'a layer, however compressed');
    assert.ok(!isLayerType(MEDIA_TYPES.ociConfig));
    assert.ok(!isLayerType('application/vnd.dsse.envelope.v1+json'));
  });
});
