import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { descriptorFor } from '../../src/attest/cosign-layout.js';
import type { RegistryClient } from '../../src/registry/client.js';
import { tempDir } from './tmp.js';

const run = promisify(execFile);

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

export interface TestRegistry {
  /** `127.0.0.1:PORT`, usable as the registry part of references. */
  host: string;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** The registry's filesystem storage root (`docker/registry/v2/...` below it), for tampering tests. */
  storageDir: string;
  /**
   * The requests the registry served so far, in order (`PUT /v2/repo/manifests/tag`), from its access log: empty
   * unless started with `accessLog: true`.
   */
  requests(): string[];
  stop(): Promise<void>;
}

export interface StartRegistryOptions {
  /** Requires HTTP basic auth (htpasswd, bcrypt) with this one user. */
  auth?: { username: string; password: string };
  /** Keep the registry's access log (Apache combined format on its stdout), read back by `requests()`. */
  accessLog?: boolean;
}

/**
 * Node 20's suite `before` hooks get no `t.after`: call this in a `describe` body and pass the result where a
 * test context is expected; everything registered runs when the suite ends, last first.
 */
export function suiteCleanup(): Pick<TestContext, 'after'> {
  const cleanups: (() => unknown)[] = [];
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });
  return {
    after: (fn: () => unknown) => {
      cleanups.push(fn);
    },
  } as Pick<TestContext, 'after'>;
}

/** A free TCP port on 127.0.0.1 (closed again before use: good enough for tests on one machine). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts Debian's docker-registry (distribution 2.8) on 127.0.0.1 with temporary storage and stops it when the
 * test (or suite) ends. Basic auth uses an htpasswd file with a bcrypt hash made by Python's crypt module
 * (libxcrypt's `$2b$`), so no extra package is needed.
 */
export async function startRegistry(
  t: Pick<TestContext, 'after'>,
  options: StartRegistryOptions = {},
): Promise<TestRegistry> {
  const dir = await tempDir(t, 'lading-registry-');
  const storageDir = join(dir, 'storage');
  await mkdir(storageDir);
  const port = await freePort();
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    `    disabled: ${options.accessLog ? 'false' : 'true'}`,
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storageDir}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
  ];
  if (options.auth) {
    const htpasswd = join(dir, 'htpasswd');
    await writeFile(htpasswd, `${options.auth.username}:${await bcryptHash(options.auth.password)}\n`);
    lines.push('auth:', '  htpasswd:', '    realm: lading-test', `    path: ${htpasswd}`);
  }
  const configPath = join(dir, 'config.yml');
  await writeFile(configPath, `${lines.join('\n')}\n`);

  const child = spawn(REGISTRY_BINARY, ['serve', configPath], {
    stdio: ['ignore', options.accessLog ? 'pipe' : 'ignore', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
  let log = '';
  child.stdout?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  // `127.0.0.1 - - [date] "PUT /v2/app/manifests/v1 HTTP/1.1" 201 …`: the method and path of each line.
  const requests = () =>
    [...log.matchAll(/"([A-Z]+) (\S+) HTTP\/[\d.]+"/g)].map((m) => `${m[1]} ${decodeURIComponent(m[2] ?? '')}`);
  const host = `127.0.0.1:${port}`;
  const url = `http://${host}`;
  const stop = () => stopChild(child);
  t.after(stop);
  await waitUntilServing(url, child, stderr);
  return { host, url, storageDir, requests, stop };
}

async function bcryptHash(password: string): Promise<string> {
  const script = 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))';
  const { stdout } = await run('python3', ['-W', 'ignore', '-c', script, password]);
  return stdout.trim();
}

async function waitUntilServing(url: string, child: ChildProcess, stderr: string[]): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}): ${stderr.join('')}`);
    try {
      const res = await fetch(`${url}/v2/`);
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not answer on ${url} within 15 s: ${stderr.join('')}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** `skopeo copy` into (or out of) the test registry, plain HTTP allowed. Throws with skopeo's stderr. */
export async function skopeoCopy(source: string, destination: string, extraArgs: string[] = []): Promise<void> {
  try {
    await run(
      'skopeo',
      [
        '--insecure-policy',
        'copy',
        '--quiet',
        '--src-tls-verify=false',
        '--dest-tls-verify=false',
        ...extraArgs,
        source,
        destination,
      ],
      { timeout: 60_000 },
    );
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`skopeo copy ${source} ${destination} failed: ${e.stderr ?? e.message}`);
  }
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** Pushes a one-layer OCI image (the layer's bytes are `content`) straight through the registry client. */
export async function pushOneLayerImage(
  client: RegistryClient,
  host: string,
  repository: string,
  tag: string,
  content: string,
): Promise<{ ref: string; digest: string }> {
  const repo = { registry: host, repository };
  const layer = Buffer.from(content);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [descriptorFor('x', layer).digest] },
    }),
  );
  await client.pushBlob(repo, layer);
  await client.pushBlob(repo, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: descriptorFor('application/vnd.oci.image.config.v1+json', config),
      layers: [descriptorFor('application/vnd.oci.image.layer.v1.tar', layer)],
    }),
  );
  const digest = await client.putManifest(repo, tag, manifest, OCI_MANIFEST);
  return { ref: `${host}/${repository}:${tag}`, digest };
}
