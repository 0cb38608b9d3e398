import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { runCli } from '../../engine/test/helpers/cli.js';
import { listenOnLoopback } from '../../engine/test/helpers/http-server.js';
import { buildImage } from '../../engine/test/helpers/images.js';
import { startRegistry, suiteCleanup, type TestRegistry } from '../../engine/test/helpers/registry.js';
import { startS3 } from '../../engine/test/helpers/s3.js';
import { tempDir } from '../../engine/test/helpers/tmp.js';

const run = promisify(execFile);

interface Receiver {
  url: string;
  posts: { path: string; headers: Record<string, unknown>; body: string }[];
}

/** A stand-in for lading-server's ingest endpoint: records each POST and answers 202 with a job, as the server does. */
async function startReceiver(t: Parameters<typeof listenOnLoopback>[1]): Promise<Receiver> {
  const posts: Receiver['posts'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posts.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('latin1') });
      const digest = /"digest":"(sha256:[0-9a-f]{64})"/.exec(Buffer.concat(chunks).toString('latin1'))?.[1] ?? '';
      res.writeHead(202, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          job: { id: `job-${posts.length}`, state: 'queued', url: `/api/v1/jobs/job-${posts.length}` },
          image: { digest, url: `/api/v1/images/${digest}` },
          artifacts: [],
        }),
      );
    });
  });
  const { port } = await listenOnLoopback(server, t);
  return { url: `http://127.0.0.1:${port}`, posts };
}

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, prefix: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(d, e.name), `${prefix}${e.name}/`);
      else out.push(`${prefix}${e.name}`);
    }
  };
  await walk(dir, '');
  return out.sort();
}

/** `openssl dgst -sha256 -verify`: the `.sig` (base64 DER, cosign sign-blob format) over the file's bytes. */
async function opensslVerifies(dir: string, file: string, publicKey: string): Promise<boolean> {
  const der = join(dir, `${file}.der-for-test`);
  await writeFile(der, Buffer.from((await readFile(join(dir, `${file}.sig`))).toString('utf8'), 'base64'));
  try {
    const { stdout } = await run('openssl', [
      'dgst',
      '-sha256',
      '-verify',
      publicKey,
      '-signature',
      der,
      join(dir, file),
    ]);
    return stdout.trim() === 'Verified OK';
  } catch {
    return false;
  } finally {
    await run('rm', ['-f', der]);
  }
}

async function skopeoDigest(ref: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${ref}`]);
    const { createHash } = await import('node:crypto');
    return `sha256:${createHash('sha256').update(stdout).digest('hex')}`;
  } catch {
    return undefined;
  }
}

async function skopeoInspectDigest(ref: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`]);
    return (JSON.parse(stdout) as { Digest: string }).Digest;
  } catch {
    return undefined;
  }
}

/** Which requests wrote to the registry (anything but GET and HEAD). */
function writes(registry: TestRegistry, from = 0): string[] {
  return registry
    .requests()
    .slice(from)
    .filter((r) => !r.startsWith('GET ') && !r.startsWith('HEAD '));
}

describe('lading pipeline', { timeout: 600_000 }, () => {
  const cleanup = suiteCleanup();
  let dir: string;
  let registry: TestRegistry;
  let receiver: Receiver;
  let key: string;
  let pub: string;
  let env: NodeJS.ProcessEnv;
  const ready = (async () => {
    dir = await tempDir(cleanup, 'lading-pipeline-');
    registry = await startRegistry(cleanup, { accessLog: true });
    receiver = await startReceiver(cleanup);
    key = join(dir, 'key.pem');
    pub = join(dir, 'key.pub');
    await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    await run('openssl', ['pkey', '-in', key, '-pubout', '-out', pub]);
    env = {
      LADING_OFFLINE: '1',
      LADING_DB_DIR: join(dir, 'db'),
      LADING_SERVER_TOKEN: 'lading_test_token',
      // The provenance's source: a git checkout outside CI.
      GITHUB_ACTIONS: '',
      GITLAB_CI: '',
    };
  })();

  const image = async (name: string, user: string, platforms?: string[]) =>
    buildImage(join(dir, name), {
      layers: [[{ type: 'file', path: 'app/hello.txt', content: `hello from ${name}\n` }]],
      config: { user, cmd: ['/app/hello'] },
      ...(platforms ? { platforms } : {}),
    });

  it('pushes signatures and attestations before the image, moves the tag last, stores and notifies; a rerun writes nothing', async () => {
    await ready;
    const built = await image('good', '1000');
    const store = join(dir, 'store');
    const out = join(dir, 'out-good');
    const repo = `${registry.host}/team/app`;
    const args = [
      'pipeline',
      `oci:${built.ociDir}`,
      '--image',
      repo,
      '--tag',
      'v1',
      '--tag',
      'latest',
      '--key',
      key,
      '--push',
      '--store',
      `file://${store}`,
      '--notify',
      receiver.url,
      '--out',
      out,
      '--fail-on',
      'critical',
    ];
    const first = await runCli(args, { env });
    assert.equal(first.code, 0, first.stderr);
    const result = JSON.parse(await readFile(join(out, 'pipeline.json'), 'utf8'));
    assert.equal(result.status, 'passed');
    assert.equal(result.digest, built.manifestDigest);
    assert.equal(await skopeoInspectDigest(`${repo}:v1`), result.digest);
    const report = JSON.parse(await readFile(join(out, 'amd64', 'report.json'), 'utf8'));
    assert.equal(report.target.digest, result.digest, 'the report names the digest skopeo sees');
    assert.equal(await skopeoDigest(`${repo}:latest`), result.digest);

    // cosign-compatible signature and attestations, as `lading verify` and `verify-attestation` read them.
    const verify = await runCli(['verify', `${repo}:v1`, '--key', pub], { env });
    assert.equal(verify.code, 0, verify.stderr);
    for (const type of ['slsaprovenance1', 'cyclonedx', 'spdxjson', 'lading-report']) {
      const checked = await runCli(['verify-attestation', `${repo}:v1`, '--key', pub, '--type', type], { env });
      assert.equal(checked.code, 0, `${type}: ${checked.stderr}`);
    }
    // The attestations the digest carries, as the Action's attestation-digests output names them: the DSSE
    // envelope layers of the `.att` manifest skopeo reads from the registry.
    const att = await run('skopeo', [
      'inspect',
      '--tls-verify=false',
      '--raw',
      `docker://${repo}:sha256-${built.manifestDigest.slice(7)}.att`,
    ]);
    const attLayers = (JSON.parse(att.stdout) as { layers: { digest: string }[] }).layers.map((l) => l.digest);
    assert.equal(attLayers.length, 4);
    assert.deepEqual(
      result.registry.attestations.map((a: { digest: string }) => a.digest),
      attLayers,
    );
    assert.deepEqual(
      result.registry.attestations.map((a: { subject: string }) => a.subject),
      Array(4).fill(built.manifestDigest),
    );
    const provenance = JSON.parse(await readFile(join(out, 'provenance.intoto.json'), 'utf8'));
    assert.deepEqual(provenance.subject, [{ name: repo, digest: { sha256: built.manifestDigest.slice(7) } }]);
    const deps = provenance.predicate.buildDefinition.resolvedDependencies;
    assert.ok(
      deps.some((d: { digest: { gitCommit?: string } }) => d.digest.gitCommit),
      'the source commit',
    );
    assert.ok(deps.some((d: { digest: { sha256?: string } }) => d.digest.sha256 === built.manifestDigest.slice(7)));
    const byproducts = provenance.predicate.runDetails.byproducts.map((b: { name: string }) => b.name).sort();
    assert.deepEqual(byproducts, [
      'amd64/report.json',
      'amd64/report.sarif',
      'amd64/sbom.cdx.json',
      'amd64/sbom.spdx.json',
    ]);

    // The order: every .sig/.att manifest before the image manifest, the image before its tags.
    const log = writes(registry).filter((r) => r.includes('/team/app/manifests/'));
    const at = (suffix: string) => log.findIndex((r) => r.startsWith('PUT ') && r.endsWith(suffix));
    const hex = built.manifestDigest.slice(7);
    assert.ok(at(`sha256-${hex}.sig`) >= 0 && at(`sha256-${hex}.att`) >= 0, log.join('\n'));
    assert.ok(at(`sha256-${hex}.sig`) < at(`manifests/${built.manifestDigest}`), log.join('\n'));
    assert.ok(at(`sha256-${hex}.att`) < at(`manifests/${built.manifestDigest}`), log.join('\n'));
    assert.ok(at(`manifests/${built.manifestDigest}`) < at('manifests/v1'), log.join('\n'));
    assert.ok(at(`manifests/${built.manifestDigest}`) < at('manifests/latest'), log.join('\n'));

    // Both storage layouts, every stored file signed (openssl checks each .sig with the public key).
    const stored = await files(store);
    for (const key of [
      'sboms/amd64/sbom-app-v1-cyclonedx.json',
      'sboms/amd64/sbom-app-v1-spdx.json',
      'attestations/amd64/attestation-app-v1.json',
      'scans/amd64/scan-app-v1.json',
      `by-digest/sha256/${hex}/sbom.cdx.json`,
      `by-digest/sha256/${hex}/sbom.spdx.json`,
      `by-digest/sha256/${hex}/scan.json`,
      `by-digest/sha256/${hex}/provenance.intoto.json`,
      `by-digest/sha256/${hex}/index.json`,
    ]) {
      assert.ok(stored.includes(key) && stored.includes(`${key}.sig`), `${key} in ${stored.join(', ')}`);
    }
    const signatures = stored.filter((f) => f.endsWith('.sig'));
    assert.equal(signatures.length, stored.length / 2, 'every stored object has its .sig');
    for (const sig of signatures) {
      assert.ok(await opensslVerifies(store, sig.slice(0, -'.sig'.length), pub), sig);
    }
    const index = JSON.parse(await readFile(join(store, `by-digest/sha256/${hex}/index.json`), 'utf8'));
    assert.equal(index.digest, built.manifestDigest);
    assert.equal(index.artifacts.length, 4);
    for (const a of index.artifacts) {
      const bytes = await readFile(join(store, a.key));
      const { createHash } = await import('node:crypto');
      assert.equal(createHash('sha256').update(bytes).digest('hex'), a.sha256);
    }

    // The server was told once, with the report.
    assert.equal(receiver.posts.length, 1);
    assert.equal(receiver.posts[0]?.path, '/api/v1/ingest');
    assert.match(receiver.posts[0]?.body ?? '', new RegExp(built.manifestDigest));
    // the report, the CycloneDX SBOM and the provenance as a DSSE envelope, as `lading push` sends them
    for (const part of ['report', 'sbom', 'attestation']) {
      assert.match(receiver.posts[0]?.body ?? '', new RegExp(`name="${part}"`));
    }
    assert.match(receiver.posts[0]?.body ?? '', /"payloadType":"application\/vnd\.in-toto\+json"/);

    // The same input again: nothing in the registry or the store changes.
    const before = registry.requests().length;
    const storedBefore = await Promise.all(stored.map(async (f) => (await stat(join(store, f))).mtimeMs));
    const second = await runCli(args, { env });
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(writes(registry, before), []);
    assert.deepEqual(await files(store), stored);
    assert.deepEqual(await Promise.all(stored.map(async (f) => (await stat(join(store, f))).mtimeMs)), storedBefore);
    const again = JSON.parse(await readFile(join(out, 'pipeline.json'), 'utf8'));
    assert.deepEqual(again.registry, {
      written: [],
      tagsMoved: [],
      unchanged: [`${repo}:v1`, `${repo}:latest`],
      attestations: result.registry.attestations,
    });
  });

  it('a failing gate stops before anything remote: no tag, an empty store, no POST; reports stay in --out', async () => {
    await ready;
    const built = await image('root', '');
    const store = join(dir, 'store-root');
    const out = join(dir, 'out-root');
    const policy = join(dir, 'policy.yaml');
    await writeFile(
      policy,
      'version: 1\nrules:\n  - id: no-root\n    action: fail\n    type: image\n    requireUser: true\n',
    );
    const posts = receiver.posts.length;
    const before = registry.requests().length;
    const res = await runCli(
      [
        'pipeline',
        `oci-archive:${built.ociArchive}`,
        '--image',
        `${registry.host}/team/root`,
        '--tag',
        'v1',
        '--key',
        key,
        '--push',
        '--policy',
        policy,
        '--store',
        `file://${store}`,
        '--notify',
        receiver.url,
        '--out',
        out,
      ],
      { env },
    );
    assert.equal(res.code, 1, res.stderr);
    assert.match(res.stderr, /gate failed: nothing pushed, uploaded or notified/);
    assert.deepEqual(writes(registry, before), []);
    assert.equal(await skopeoInspectDigest(`${registry.host}/team/root:v1`), undefined);
    assert.deepEqual(await files(store), []);
    assert.equal(receiver.posts.length, posts);
    const staged = await files(out);
    assert.ok(staged.includes('amd64/report.json') && staged.includes('amd64/report.sarif'), staged.join(', '));
    assert.equal(JSON.parse(await readFile(join(out, 'pipeline.json'), 'utf8')).status, 'gate-failed');
  });

  it('--dry-run signs and stages locally and writes nothing remote', async () => {
    await ready;
    const built = await image('dry', '1000');
    const store = join(dir, 'store-dry');
    const out = join(dir, 'out-dry');
    const posts = receiver.posts.length;
    const before = registry.requests().length;
    const res = await runCli(
      [
        'pipeline',
        `docker-archive:${built.dockerArchive}`,
        '--image',
        `${registry.host}/team/dry`,
        '--tag',
        'v1',
        '--key',
        key,
        '--push',
        '--dry-run',
        '--store',
        `file://${store}`,
        '--notify',
        receiver.url,
        '--out',
        out,
      ],
      { env },
    );
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(registry.requests().slice(before), []);
    assert.deepEqual(await files(store), []);
    assert.equal(receiver.posts.length, posts);
    for (const f of ['amd64/sbom.cdx.json', 'amd64/sbom.spdx.json', 'amd64/report.json', 'provenance.intoto.json']) {
      assert.ok(await opensslVerifies(out, f, pub), f);
    }
  });

  it('--platform all: one scan and SBOM per platform, provenance on the index and on each platform; s3 store', async () => {
    await ready;
    const built = await image('multi', '1000', ['linux/amd64', 'linux/arm64']);
    const s3 = await startS3('pipeline');
    cleanup.after(() => s3.close());
    const out = join(dir, 'out-multi');
    const repo = `${registry.host}/team/multi`;
    const res = await runCli(
      [
        'pipeline',
        `oci:${built.ociDir}`,
        '--image',
        repo,
        '--tag',
        '2.0',
        '--key',
        key,
        '--push',
        '--store',
        's3://pipeline/releases',
        '--out',
        out,
      ],
      {
        env: {
          ...env,
          AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
          AWS_REGION: s3.credentials.region,
          AWS_ENDPOINT_URL: s3.endpoint,
        },
      },
    );
    assert.equal(res.code, 0, res.stderr);
    assert.equal(await skopeoDigest(`${repo}:2.0`), built.indexDigest);
    const result = JSON.parse(await readFile(join(out, 'pipeline.json'), 'utf8'));
    assert.deepEqual(
      result.platforms.map((p: { arch: string; digest: string }) => [p.arch, p.digest]),
      built.images.map((i) => [i.platform.split('/')[1], i.manifestDigest]),
    );
    for (const digest of [built.indexDigest!, ...built.images.map((i) => i.manifestDigest)]) {
      const provenance = await runCli(
        ['verify-attestation', `${repo}@${digest}`, '--key', pub, '--type', 'slsaprovenance1'],
        { env },
      );
      assert.equal(provenance.code, 0, provenance.stderr);
      const signature = await runCli(['verify', `${repo}@${digest}`, '--key', pub], { env });
      assert.equal(signature.code, 0, signature.stderr);
    }
    for (const i of built.images) {
      const sbom = await runCli(
        ['verify-attestation', `${repo}@${i.manifestDigest}`, '--key', pub, '--type', 'cyclonedx'],
        {
          env,
        },
      );
      assert.equal(sbom.code, 0, sbom.stderr);
    }
    // The objects in the bucket, read back over S3 with the same client the pipeline used.
    const { openObjectStore } = await import('@lading/engine/objects');
    const bucket = openObjectStore('s3://pipeline/releases', { s3: { ...s3.credentials, endpoint: s3.endpoint } });
    const keys: string[] = [];
    for await (const o of bucket.listAll('')) keys.push(o.key);
    for (const arch of ['amd64', 'arm64']) {
      assert.ok(keys.includes(`sboms/${arch}/sbom-multi-2.0-cyclonedx.json.sig`), keys.join(', '));
      assert.ok(keys.includes(`scans/${arch}/scan-multi-2.0.json`), keys.join(', '));
    }
    assert.ok(keys.includes(`by-digest/sha256/${built.indexDigest!.slice(7)}/index.json`), keys.join(', '));
    assert.ok(keys.includes(`by-digest/sha256/${built.indexDigest!.slice(7)}/provenance.intoto.json.sig`));
  });

  it('usage errors are exit 2 before anything is read: no key, a tag in --image, an unknown --patch mode', async () => {
    await ready;
    const built = await image('usage', '1000');
    const base = ['pipeline', `oci:${built.ociDir}`, '--out', join(dir, 'out-usage')];
    const noKey = await runCli([...base, '--image', `${registry.host}/team/usage`], {
      env: { ...env, LADING_KEY: '' },
    });
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /give --key \(or LADING_KEY\)/);
    const tagged = await runCli([...base, '--image', `${registry.host}/team/usage:v1`, '--key', key], { env });
    assert.equal(tagged.code, 2);
    assert.match(tagged.stderr, /--image \S+\/team\/usage:v1: name the repository only/);
    const patch = await runCli([...base, '--image', `${registry.host}/team/usage`, '--key', key, '--patch', 'yes'], {
      env,
    });
    assert.equal(patch.code, 2);
    assert.match(patch.stderr, /--patch yes: choose off, plan or apply/);
  });
});
