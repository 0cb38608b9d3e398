import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { runCli } from '../../engine/test/helpers/cli.js';
import { pkg, report } from '../../engine/test/helpers/reports.js';
import { tempDir } from '../../engine/test/helpers/tmp.js';
import { repositoryOf } from '../src/commands/push.js';

/**
 * `lading push` against a stand-in for lading-server's ingest API (the server is its own package, tested on its own
 * with this same client): it answers with SERVER.md section 2's shapes and parses the multipart body it receives.
 */

interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

async function startServer(
  t: TestContext,
  handler: (r: Received, res: ServerResponse) => void,
): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const r = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
    received.push(r);
    handler(r, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const TOKEN = 'lading_abcdefghij_0123456789abcdefghijABCDEFGHIJKL';
const ENV = { LADING_SERVER_TOKEN: TOKEN };

function json(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type }).end(JSON.stringify(body));
}

function accepted(res: ServerResponse): void {
  json(res, 202, {
    job: { id: 'job_7', state: 'queued', url: '/api/v1/jobs/job_7' },
    image: { digest: DIGEST, url: `/api/v1/images/${DIGEST}` },
    artifacts: [],
  });
}

async function evidence(t: TestContext): Promise<{ dir: string; reportPath: string; sbomPath: string }> {
  const dir = await tempDir(t);
  const r = report('registry.example:5000/acme/api:1.4', [pkg('deb', 'openssl', '3.0.11-1')], []);
  r.target.digest = DIGEST;
  r.target.platform = 'linux/amd64';
  const reportPath = join(dir, 'report.json');
  const sbomPath = join(dir, 'sbom.cdx.json');
  await writeFile(reportPath, JSON.stringify(r));
  await writeFile(sbomPath, '{"bomFormat":"CycloneDX","specVersion":"1.6"}');
  return { dir, reportPath, sbomPath };
}

describe('lading push', () => {
  it('sends the bundle with metadata from the report, waits for the job and prints its outcome (exit 0)', async (t) => {
    const { reportPath, sbomPath } = await evidence(t);
    const server = await startServer(t, (r, res) => {
      if (r.method === 'POST') return accepted(res);
      json(res, 200, {
        id: 'job_7',
        kind: 'ingest',
        state: 'succeeded',
        result: {
          image: DIGEST,
          counts: { critical: 0, high: 2, medium: 1, low: 0, unknown: 0 },
          evidence: { state: 'partial', score: 4, max: 9 },
        },
      });
    });
    const out = await runCli(
      ['push', '--server', server.url, '--report', reportPath, '--sbom', sbomPath, '--tag', '1.4', '--tag', 'latest'],
      { env: ENV },
    );
    assert.equal(out.code, 0, out.stderr);
    assert.equal(
      out.stdout,
      `${DIGEST}: accepted (job job_7): succeeded · critical 0, high 2, medium 1, low 0, unknown 0 · evidence partial 4/9\n`,
    );
    const post = server.received[0];
    assert.ok(post);
    assert.equal(post.headers.authorization, `Bearer ${TOKEN}`);
    const form = await new Response(new Uint8Array(post.body), {
      headers: { 'content-type': String(post.headers['content-type']) },
    }).formData();
    assert.deepEqual(formKeys(form), ['metadata', 'sbom', 'report']);
    assert.deepEqual(JSON.parse(await (form.get('metadata') as File).text()), {
      repository: 'registry.example:5000/acme/api',
      digest: DIGEST,
      platform: 'linux/amd64',
      tags: ['1.4', 'latest'],
    });
    assert.equal(server.received[1]?.path, '/api/v1/jobs/job_7?wait=30');
  });

  it('--no-wait returns once the server accepted; --json prints its answer', async (t) => {
    const { reportPath } = await evidence(t);
    const server = await startServer(t, (_r, res) => accepted(res));
    const out = await runCli(['push', '--server', server.url, '--report', reportPath, '--no-wait', '--json'], {
      env: ENV,
    });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(JSON.parse(out.stdout).accepted.job.id, 'job_7');
    assert.equal(server.received.length, 1);
  });

  it("a refusal is exit 3 with the server's reason in one line", async (t) => {
    const { reportPath } = await evidence(t);
    const server = await startServer(t, (_r, res) =>
      json(
        res,
        422,
        {
          type: 'about:blank',
          title: 'Unprocessable Entity',
          status: 422,
          part: 'report',
          detail: 'report: target digest differs from metadata.digest',
        },
        'application/problem+json',
      ),
    );
    const out = await runCli(
      ['push', '--server', server.url, '--report', reportPath, '--digest', `sha256:${'cd'.repeat(32)}`],
      {
        env: ENV,
      },
    );
    assert.equal(out.code, 3);
    assert.equal(
      out.stderr,
      'lading: lading-server refused /api/v1/ingest: 422 Unprocessable Entity: report: target digest differs from metadata.digest\n',
    );
  });

  it('an ingest job failed by an enforced verification is exit 1; another failure exit 3', async (t) => {
    const { reportPath } = await evidence(t);
    for (const [code, exit] of [
      ['verification_failed', 1],
      ['unreadable_sbom', 3],
    ] as const) {
      const server = await startServer(t, (r, res) => {
        if (r.method === 'POST') return accepted(res);
        json(res, 200, {
          id: 'job_7',
          kind: 'ingest',
          state: 'failed',
          error: { code, message: 'provenance.signature: failed' },
        });
      });
      const out = await runCli(['push', '--server', server.url, '--report', reportPath], { env: ENV });
      assert.equal(out.code, exit, out.stderr);
      assert.match(
        out.stderr,
        new RegExp(`^lading: lading-server: ingest job job_7 failed \\(${code}: provenance.signature: failed\\)\\n$`),
      );
    }
  });

  it('--pull sends the digest reference; the server URL may come from LADING_SERVER', async (t) => {
    const server = await startServer(t, (_r, res) => accepted(res));
    const image = `registry.example/acme/api@${DIGEST}`;
    const out = await runCli(['push', '--pull', image, '--tag', '1.4', '--no-wait'], {
      env: { ...ENV, LADING_SERVER: server.url },
    });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(server.received[0]?.path, '/api/v1/ingest/pull');
    assert.deepEqual(JSON.parse(server.received[0]?.body.toString() ?? ''), { image, tags: ['1.4'] });
  });

  it('usage errors are exit 2 and ask nothing of the server', async (t) => {
    const { reportPath, sbomPath } = await evidence(t);
    const server = await startServer(t, (_r, res) => accepted(res));
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['push', '--server', server.url, '--report', reportPath], {}, /LADING_SERVER_TOKEN/],
      [['push', '--report', reportPath], ENV, /--server/],
      [['push', '--server', server.url], ENV, /--pull IMAGE@DIGEST or evidence files/],
      [['push', '--server', server.url, '--pull', `r@${DIGEST}`, '--sbom', sbomPath], ENV, /not both/],
      [['push', '--server', server.url, '--pull', 'registry.example/acme/api:1.4'], ENV, /by digest only/],
      [['push', '--server', server.url, '--sbom', sbomPath], ENV, /--repository/],
      [
        ['push', '--server', server.url, '--sbom', sbomPath, '--repository', 'r', '--digest', 'sha256:12'],
        ENV,
        /--digest/,
      ],
    ];
    for (const [args, env, words] of cases) {
      const out = await runCli(args, { env });
      assert.equal(out.code, 2, `${args.join(' ')}: ${out.stderr}`);
      assert.match(out.stderr, words);
      assert.equal(out.stderr.split('\n').length, 2, out.stderr);
    }
    assert.equal(server.received.length, 0);
  });

  it("repositoryOf: a reference's repository, none for local layouts", () => {
    assert.equal(repositoryOf('ghcr.io/acme/api:1.4'), 'ghcr.io/acme/api');
    assert.equal(repositoryOf(`localhost:5000/acme/api@${DIGEST}`), 'localhost:5000/acme/api');
    assert.equal(repositoryOf(`localhost:5000/acme/api:1@${DIGEST}`), 'localhost:5000/acme/api');
    assert.equal(repositoryOf('docker.io/library/alpine'), 'docker.io/library/alpine');
    assert.equal(repositoryOf('oci:/tmp/layout:tag'), undefined);
    assert.equal(repositoryOf('docker-archive:/tmp/x.tar'), undefined);
  });
});

/** The form's field names in order (FormData.forEach: the iterator methods are not in every TypeScript lib set). */
function formKeys(form: FormData): string[] {
  const keys: string[] = [];
  form.forEach((_value, key) => {
    keys.push(key);
  });
  return keys;
}
