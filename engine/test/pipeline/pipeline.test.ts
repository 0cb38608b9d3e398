import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { detectBuildContext } from '../../src/attest/ci-environment.js';
import { parseEnvelope, verifyEnvelope } from '../../src/attest/dsse.js';
import { verifyImageAttestations } from '../../src/attest/image-attestations.js';
import { attachmentRegistry } from '../../src/attest/registry-adapter.js';
import { pushBundle } from '../../src/collector/client.js';
import { LadingError } from '../../src/errors/lading-error.js';
import { type PipelineEvent, type PipelineOptions, type PipelinePorts, runPipeline } from '../../src/pipeline/index.js';
import { scan } from '../../src/scan/scan.js';
import { importPaths } from '../../src/vulndb/import-paths.js';
import { VulnStoreWriter } from '../../src/vulndb/writer.js';
import { aptRepo, buildDeb, imageFromRoot, installedRoot } from '../helpers/apt-repo.js';
import { listenOnLoopback } from '../helpers/http-server.js';
import { buildImage } from '../helpers/images.js';
import { ENGINE_ROOT } from '../helpers/paths.js';
import { skopeoCopy, startRegistry, suiteCleanup } from '../helpers/registry.js';
import { tempDir } from '../helpers/tmp.js';

const run = promisify(execFile);
const OSV_FIXTURES = join(ENGINE_ROOT, 'test/fixtures/vulndb/osv');
const NOW = new Date('2026-12-01T10:00:00Z');

function keyPair() {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

function options(source: string, image: string, outDir: string, extra: Partial<PipelineOptions> = {}): PipelineOptions {
  return {
    source,
    image,
    tags: ['v1'],
    platform: 'all',
    push: true,
    dryRun: false,
    outDir,
    storeLayout: 'both',
    notifyRequired: false,
    startedOn: NOW,
    ...extra,
  };
}

function ports(dbDir: string, extra: Partial<PipelinePorts> = {}): PipelinePorts {
  return {
    scan: (target, o) => scan(target, { dbDir, now: NOW, ...(o.signal ? { signal: o.signal } : {}) }),
    registry: attachmentRegistry(),
    signingKey: keyPair().privateKey,
    buildContext: detectBuildContext({}, () => ({ commit: 'a'.repeat(40), remote: 'https://example.com/acme/app' })),
    clock: () => new Date('2026-12-01T10:05:00Z'),
    sleep: async () => {},
    ...extra,
  };
}

async function image(dir: string, name: string, layers = 1) {
  return buildImage(join(dir, name), {
    layers: Array.from({ length: layers }, (_, i) => [
      { type: 'file' as const, path: `app/file-${i}.txt`, content: `${name} ${i}\n` },
    ]),
    config: { user: '1000' },
  });
}

/** The tags the registry's filesystem storage holds for a repository (read from its folder, not over HTTP). */
async function storedTags(storageDir: string, repository: string): Promise<string[]> {
  const dir = join(storageDir, 'docker/registry/v2/repositories', repository, '_manifests/tags');
  return (await readdir(dir).catch(() => [])).sort();
}

describe('runPipeline', { timeout: 300_000 }, () => {
  const cleanup = suiteCleanup();

  it('a registry that disappears mid-run: exit 3, no tag, the untagged writes named', async () => {
    const dir = await tempDir(cleanup);
    const registry = await startRegistry(cleanup);
    const built = await image(dir, 'vanish');
    const real = attachmentRegistry({});
    let manifests = 0;
    // The registry process is killed for real just before the second manifest write (after the first .sig).
    const port: PipelinePorts['registry'] = {
      ...real,
      pushManifest: async (repo, tag, bytes, mediaType) => {
        if (++manifests === 2) await registry.stop();
        return real.pushManifest(repo, tag, bytes, mediaType);
      },
    };
    const error = await runPipeline(
      options(`oci:${built.ociDir}`, `${registry.host}/team/vanish`, join(dir, 'out')),
      ports(join(dir, 'db'), { registry: port }),
    ).then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.ok(error instanceof LadingError, String(error));
    assert.equal(error.exitCode, 3);
    assert.match(error.message, /no tag was moved; written untagged: .*sha256-[0-9a-f]{64}\.sig/);
    assert.deepEqual(await storedTags(registry.storageDir, 'team/vanish'), [
      `sha256-${built.manifestDigest.slice(7)}.sig`,
    ]);
  });

  it('progress events name each step in order; an abort before the registry writes leaves it untouched', async () => {
    const dir = await tempDir(cleanup);
    const registry = await startRegistry(cleanup, { accessLog: true });
    const built = await image(dir, 'aborted');
    const controller = new AbortController();
    const steps: string[] = [];
    const error = await runPipeline(
      options(`oci:${built.ociDir}`, `${registry.host}/team/aborted`, join(dir, 'out'), {
        signal: controller.signal,
        onEvent: (e) => {
          if (steps.at(-1) !== e.step) steps.push(e.step);
          if (e.step === 'sign') controller.abort();
        },
      }),
      ports(join(dir, 'db')),
    ).then(
      () => undefined,
      (err: unknown) => err,
    );
    assert.ok(error instanceof LadingError && error.code === 'ABORTED', String(error));
    assert.deepEqual(steps, ['read', 'scan', 'gate', 'sbom', 'provenance', 'sign']);
    assert.deepEqual(registry.requests(), ['GET /v2/']);
  });

  it('a layer that does not match its digest stops the run before anything is written remotely', async () => {
    const dir = await tempDir(cleanup);
    const registry = await startRegistry(cleanup, { accessLog: true });
    const built = await image(dir, 'tampered');
    const layer = join(built.ociDir, 'blobs/sha256', built.layerDigests[0]!.slice(7));
    const bytes = await readFile(layer);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 1, bytes.length - 1);
    await writeFile(layer, bytes);
    await assert.rejects(
      runPipeline(
        options(`oci:${built.ociDir}`, `${registry.host}/team/tampered`, join(dir, 'out')),
        ports(join(dir, 'db')),
      ),
      (err: unknown) =>
        err instanceof LadingError && err.exitCode === 3 && /does not match its content/.test(err.message),
    );
    // Only the helper's own readiness probe reached the registry.
    assert.deepEqual(registry.requests(), ['GET /v2/']);
  });

  it('an undeliverable notification is retried, then spooled with a warning; --notify-required makes it exit 3', async () => {
    const dir = await tempDir(cleanup);
    const registry = await startRegistry(cleanup);
    const built = await image(dir, 'notify');
    let posts = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        posts++;
        res.writeHead(503, { 'content-type': 'application/problem+json' }).end('{"title":"maintenance"}');
      });
    });
    const { port } = await listenOnLoopback(server, cleanup);
    const url = `http://127.0.0.1:${port}`;
    // A POST is not retried by the HTTP client itself: the attempts counted are the pipeline's.
    const notifier: PipelinePorts['notifier'] = {
      describe: () => url,
      send: async (r) => {
        const outcome = await pushBundle({
          server: { url, token: 'lading_test' },
          metadata: { repository: r.repository, digest: r.digest },
          parts: [{ name: 'report', bytes: r.report }],
        });
        return { status: 202, location: outcome.accepted.job.url };
      },
    };
    const out = join(dir, 'out');
    const result = await runPipeline(
      options(`oci:${built.ociDir}`, `${registry.host}/team/notify`, out, { notifyAttempts: 3 }),
      ports(join(dir, 'db'), { notifier }),
    );
    assert.equal(posts, 3);
    assert.equal(result.notify?.status, 'spooled');
    assert.match(result.warnings.join('\n'), /failed after 3 attempts .*spooled to notify\.json/);
    const spool = JSON.parse(await readFile(join(out, 'notify.json'), 'utf8'));
    assert.equal(spool[0].digest, built.manifestDigest);
    assert.match(spool[0].idempotencyKey, new RegExp(`^${built.manifestDigest}:[0-9a-f]{64}$`));
    assert.deepEqual(await storedTags(registry.storageDir, 'team/notify'), [
      `sha256-${built.manifestDigest.slice(7)}.att`,
      `sha256-${built.manifestDigest.slice(7)}.sig`,
      'v1',
    ]);

    await assert.rejects(
      runPipeline(
        options(`oci:${built.ociDir}`, `${registry.host}/team/notify`, join(dir, 'out2'), {
          notifyAttempts: 2,
          notifyRequired: true,
        }),
        ports(join(dir, 'db'), { notifier }),
      ),
      (err: unknown) => err instanceof LadingError && err.exitCode === 3 && /after 2 attempts/.test(err.message),
    );
  });

  it('registry:REF@DIGEST: an image already pushed is signed, attested and tagged, not pushed again', async () => {
    const dir = await tempDir(cleanup);
    const registry = await startRegistry(cleanup, { accessLog: true });
    const built = await image(dir, 'pushed');
    await skopeoCopy(`oci:${built.ociDir}`, `docker://${registry.host}/team/pushed:build-1`, ['--preserve-digests']);
    const before = registry.requests().length;
    const events: PipelineEvent[] = [];
    const p = ports(join(dir, 'db'));
    const result = await runPipeline(
      options(
        `registry:${registry.host}/team/pushed@${built.manifestDigest}`,
        `${registry.host}/team/pushed`,
        join(dir, 'out'),
        {
          onEvent: (e) => events.push(e),
        },
      ),
      p,
    );
    assert.equal(result.digest, built.manifestDigest);
    assert.ok(events.some((e) => /already in the registry: the image itself is not pushed/.test(e.message)));
    const blobWrites = registry
      .requests()
      .slice(before)
      .filter((r) => r.startsWith('PUT ') && r.includes(`/manifests/${built.manifestDigest}`));
    assert.deepEqual(blobWrites, []);
    assert.deepEqual(await storedTags(registry.storageDir, 'team/pushed'), [
      'build-1',
      `sha256-${built.manifestDigest.slice(7)}.att`,
      `sha256-${built.manifestDigest.slice(7)}.sig`,
      'v1',
    ]);

    // Into another repository: the image is copied there (blobs from the source repository), then tagged.
    const copied = await runPipeline(
      options(
        `registry:${registry.host}/team/pushed@${built.manifestDigest}`,
        `${registry.host}/team/release`,
        join(dir, 'out2'),
      ),
      p,
    );
    assert.equal(copied.digest, built.manifestDigest);
    await skopeoCopy(`docker://${registry.host}/team/release:v1`, `oci:${join(dir, 'release-copy')}:v1`);
    assert.deepEqual(await storedTags(registry.storageDir, 'team/release'), [
      `sha256-${built.manifestDigest.slice(7)}.att`,
      `sha256-${built.manifestDigest.slice(7)}.sig`,
      'v1',
    ]);
  });

  it('--flatten: the one-layer image is pushed; the provenance names the input image it came from', async () => {
    const dir = await tempDir(cleanup);
    const registry = await startRegistry(cleanup);
    const built = await image(dir, 'layered', 3);
    const key = keyPair();
    const result = await runPipeline(
      options(`oci:${built.ociDir}`, `${registry.host}/team/flat`, join(dir, 'out'), { flatten: true }),
      ports(join(dir, 'db'), { signingKey: key.privateKey }),
    );
    assert.notEqual(result.digest, built.manifestDigest);
    assert.equal(result.inputDigest, built.manifestDigest);
    const repo = { registry: registry.host, repository: 'team/flat' };
    const manifest = await attachmentRegistry().fetchManifest(repo, 'v1');
    assert.equal(manifest?.digest, result.digest);
    assert.equal((JSON.parse(manifest!.bytes.toString()) as { layers: unknown[] }).layers.length, 1);
    const [statement] = await verifyImageAttestations(
      attachmentRegistry(),
      {
        repo,
        name: `${registry.host}/team/flat`,
        reference: { ...repo, digest: result.digest },
        digest: result.digest,
        byTag: false,
      },
      key.publicKey,
      'https://slsa.dev/provenance/v1',
    );
    const deps = (
      statement!.predicate as {
        buildDefinition: {
          resolvedDependencies: { digest: Record<string, string>; annotations?: Record<string, string> }[];
        };
      }
    ).buildDefinition.resolvedDependencies;
    assert.ok(
      deps.some(
        (d) => d.annotations?.['role'] === 'input-image' && d.digest['sha256'] === built.manifestDigest.slice(7),
      ),
    );
    assert.ok(deps.some((d) => d.digest['gitCommit'] === 'a'.repeat(40)));
    assert.ok(existsSync(join(dir, 'out', 'pipeline.json')));
    // The provenance as a signed DSSE envelope too: its payload is the staged statement, byte for byte.
    const envelope = parseEnvelope(await readFile(join(dir, 'out', 'provenance.dsse.json')), 'provenance.dsse.json');
    assert.deepEqual(
      verifyEnvelope(key.publicKey, envelope, 'provenance.dsse.json'),
      await readFile(join(dir, 'out', 'provenance.intoto.json')),
    );
  });

  it('docker-archive: rewritten as an OCI manifest whose digest is what is pushed, signed and tagged', async () => {
    const dir = await tempDir(cleanup);
    const registry = await startRegistry(cleanup);
    const built = await image(dir, 'saved', 2);
    const result = await runPipeline(
      options(`docker-archive:${built.dockerArchive}`, `${registry.host}/team/saved`, join(dir, 'out')),
      ports(join(dir, 'db')),
    );
    const repo = { registry: registry.host, repository: 'team/saved' };
    const tagged = await attachmentRegistry().fetchManifest(repo, 'v1');
    assert.equal(tagged?.digest, result.digest);
    const manifest = JSON.parse(tagged!.bytes.toString()) as {
      config: { digest: string };
      layers: { digest: string }[];
    };
    // The config and the (plain tar) layers are docker save's bytes: their digests are the config's own and its diff-ids.
    assert.equal(manifest.config.digest, built.configDigest);
    assert.deepEqual(
      manifest.layers.map((l) => l.digest),
      built.diffIds,
    );
    // skopeo, an independent reader, is served the same manifest bytes under the tag.
    const { stdout } = await run('skopeo', [
      'inspect',
      '--raw',
      '--tls-verify=false',
      `docker://${registry.host}/team/saved:v1`,
    ]);
    assert.equal(`sha256:${createHash('sha256').update(stdout).digest('hex')}`, result.digest);
    // and reads the whole image back (every blob fetched and checked against its digest).
    await skopeoCopy(`docker://${registry.host}/team/saved:v1`, `oci:${join(dir, 'copy')}:v1`);
  });

  it('one --platform of an index: that platform image is what is pushed and tagged', async () => {
    const dir = await tempDir(cleanup);
    const registry = await startRegistry(cleanup);
    const built = await buildImage(join(dir, 'multi'), {
      layers: [[{ type: 'file', path: 'app/x', content: 'x\n' }]],
      config: { user: '1000' },
      platforms: ['linux/amd64', 'linux/arm/v7'],
    });
    const result = await runPipeline(
      options(`oci:${built.ociDir}`, `${registry.host}/team/one`, join(dir, 'out'), { platform: 'linux/arm/v7' }),
      ports(join(dir, 'db')),
    );
    const arm = built.images.find((i) => i.platform === 'linux/arm/v7')!;
    assert.equal(result.digest, arm.manifestDigest);
    assert.deepEqual(
      result.platforms.map((p) => [p.platform, p.arch]),
      [['linux/arm/v7', 'arm-v7']],
    );
    const tagged = await attachmentRegistry().fetchManifest({ registry: registry.host, repository: 'team/one' }, 'v1');
    assert.equal(tagged?.digest, arm.manifestDigest);
  });

  it('refuses a tagged --image, a malformed tag and a compressed archive before reading anything (exit 2)', async () => {
    const dir = await tempDir(cleanup);
    const built = await buildImage(join(dir, 'gz'), {
      layers: [[{ type: 'file', path: 'a', content: 'a' }]],
      gzipDockerArchive: true,
    });
    const usage = (pattern: RegExp) => (err: unknown) =>
      err instanceof LadingError && err.exitCode === 2 && pattern.test(err.message);
    const p = ports(join(dir, 'db'));
    await assert.rejects(
      runPipeline(options(`oci:${built.ociDir}`, '127.0.0.1:1/team/app:v1', join(dir, 'o1')), p),
      usage(/name the repository only/),
    );
    await assert.rejects(
      runPipeline(options(`oci:${built.ociDir}`, '127.0.0.1:1/team/app', join(dir, 'o2'), { tags: ['no spaces'] }), p),
      usage(/not a valid tag/),
    );
    await assert.rejects(
      runPipeline(options(`docker-archive:${built.dockerArchive}`, '127.0.0.1:1/team/app', join(dir, 'o3')), p),
      usage(/compressed archive; decompress it first/),
    );
    await assert.rejects(
      runPipeline(options(`dir:${dir}`, '127.0.0.1:1/team/app', join(dir, 'o4')), p),
      usage(/the pipeline reads a build output/),
    );
  });

  it('--patch apply: the fixable findings are patched as one layer, the patched image rescanned, gated and pushed; the provenance lists each package', async () => {
    const dir = await tempDir(cleanup);
    const OLD = '3.0.11-1~deb12u1';
    const NEW = '3.0.11-1~deb12u2';
    const lib = 'usr/lib/x86_64-linux-gnu';
    const installed = [
      await buildDeb(join(dir, 'old'), {
        name: 'libssl3',
        version: OLD,
        source: 'openssl',
        multiArch: 'same',
        files: { [`${lib}/libssl.so.3`]: 'libssl old\n' },
      }),
      await buildDeb(join(dir, 'old'), {
        name: 'openssl',
        version: OLD,
        depends: `libssl3 (>= ${OLD})`,
        files: { 'usr/bin/openssl': 'openssl old\n' },
      }),
    ];
    const fresh = [
      await buildDeb(join(dir, 'new'), {
        name: 'libssl3',
        version: NEW,
        source: 'openssl',
        multiArch: 'same',
        files: { [`${lib}/libssl.so.3`]: 'libssl new\n' },
      }),
      await buildDeb(join(dir, 'new'), {
        name: 'openssl',
        version: NEW,
        depends: `libssl3 (>= ${NEW})`,
        files: { 'usr/bin/openssl': 'openssl new\n' },
      }),
    ];
    const repo = await aptRepo(cleanup, dir, fresh);
    const root = await installedRoot(join(dir, 'image'), installed, {
      'etc/os-release': 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n',
      'etc/apt/sources.list.d/test.sources': `Types: deb\nURIs: ${repo.url}\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/test.gpg\n`,
    });
    await mkdir(join(root, 'usr/share/keyrings'), { recursive: true });
    await writeFile(join(root, 'usr/share/keyrings/test.gpg'), repo.keyring);
    const { spec, layout } = await imageFromRoot(join(dir, 'image'), root);
    const inputDigest = (
      JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] }
    ).manifests[0]!.digest;
    // The one OSV record the image's openssl needs: fixed in NEW, HIGH (CVSS 7.5).
    const dbDir = join(dir, 'db');
    const store = VulnStoreWriter.open(dbDir);
    try {
      await importPaths(store, [join(OSV_FIXTURES, 'Debian', 'DEBIAN-CVE-2023-5363.json')], NOW);
    } finally {
      store.close();
    }
    const registry = await startRegistry(cleanup);
    const key = keyPair();

    // --patch plan: the plan is written, the image is not changed, and the gate still fails on the finding.
    const planned = await runPipeline(
      options(spec, `${registry.host}/team/patched`, join(dir, 'out-plan'), { patch: 'plan', failOn: 'HIGH' }),
      ports(dbDir, { signingKey: key.privateKey }),
    );
    assert.equal(planned.status, 'gate-failed');
    assert.equal(planned.digest, inputDigest);
    const plan = JSON.parse(await readFile(join(dir, 'out-plan', 'patch-plan.json'), 'utf8')) as {
      entries: { source: string; verdict: string }[];
    };
    assert.deepEqual(
      plan.entries.map((e) => [e.source, e.verdict]),
      [['openssl', 'apply']],
    );
    assert.deepEqual(await storedTags(registry.storageDir, 'team/patched'), []);

    // --patch apply: the patched image passes the same gate and is what gets pushed and tagged.
    const out = join(dir, 'out-apply');
    const result = await runPipeline(
      options(spec, `${registry.host}/team/patched`, out, { patch: 'apply', failOn: 'HIGH' }),
      ports(dbDir, { signingKey: key.privateKey }),
    );
    assert.equal(result.status, 'passed', JSON.stringify(result.platforms));
    assert.equal(result.inputDigest, inputDigest);
    assert.notEqual(result.digest, inputDigest);
    assert.equal(result.patch?.digest, result.digest);
    assert.deepEqual(result.patch?.patched.map((p) => [p.name, p.to]).sort(), [
      ['libssl3', NEW],
      ['openssl', NEW],
    ]);
    const repoRef = { registry: registry.host, repository: 'team/patched' };
    assert.equal((await attachmentRegistry().fetchManifest(repoRef, 'v1'))?.digest, result.digest);
    const provenance = JSON.parse(await readFile(join(out, 'provenance.intoto.json'), 'utf8')) as {
      predicate: {
        buildDefinition: {
          resolvedDependencies: {
            uri?: string;
            digest: Record<string, string>;
            annotations?: Record<string, string>;
          }[];
        };
      };
    };
    const deps = provenance.predicate.buildDefinition.resolvedDependencies;
    const packages = deps.filter((d) => d.annotations?.['role'] === 'patch-package');
    assert.equal(packages.length, 2);
    for (const p of packages) {
      assert.ok(p.uri?.startsWith(repo.url), p.uri);
      const deb = fresh.find((f) => p.uri?.endsWith(f.split('/').pop()!))!;
      assert.equal(
        p.digest['sha256'],
        createHash('sha256')
          .update(await readFile(deb))
          .digest('hex'),
      );
    }
    assert.ok(
      deps.some((d) => d.annotations?.['role'] === 'input-image' && d.digest['sha256'] === inputDigest.slice(7)),
    );
  });
});
