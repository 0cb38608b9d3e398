import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  detectBuildContext,
  GITHUB_BUILD_TYPE,
  GITLAB_BUILD_TYPE,
  LOCAL_BUILD_TYPE,
} from '../../src/attest/ci-environment.js';
import { buildProvenance, rfc3339 } from '../../src/attest/provenance.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const run = promisify(execFile);
const noGit = () => ({});
const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

const GITHUB_ENV = {
  GITHUB_ACTIONS: 'true',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'acme/api',
  GITHUB_REPOSITORY_ID: '123',
  GITHUB_REPOSITORY_OWNER_ID: '45',
  GITHUB_SHA: SHA,
  GITHUB_REF: 'refs/heads/release@2024',
  GITHUB_RUN_ID: '987',
  GITHUB_RUN_ATTEMPT: '2',
  GITHUB_EVENT_NAME: 'push',
  GITHUB_WORKFLOW_REF: 'acme/api/.github/workflows/release.yml@refs/heads/release@2024',
  RUNNER_ENVIRONMENT: 'github-hosted',
};

describe('SLSA v1 provenance', () => {
  it('GitHub Actions: the shape actions/attest builds, from environment variables', () => {
    const context = detectBuildContext(GITHUB_ENV, noGit);
    const p = buildProvenance({
      context,
      dependencies: [{ name: 'docker.io/library/debian', digest: { sha256: 'f'.repeat(64) } }],
      byproducts: [],
      startedOn: new Date('2026-01-02T03:04:05.678Z'),
      finishedOn: new Date('2026-01-02T03:09:00Z'),
    });
    assert.equal(p.buildDefinition.buildType, GITHUB_BUILD_TYPE);
    assert.deepEqual(p.buildDefinition.externalParameters, {
      workflow: {
        ref: 'refs/heads/release@2024',
        repository: 'https://github.com/acme/api',
        path: '.github/workflows/release.yml',
      },
    });
    assert.deepEqual(p.buildDefinition.internalParameters, {
      github: {
        event_name: 'push',
        repository_id: '123',
        repository_owner_id: '45',
        runner_environment: 'github-hosted',
      },
    });
    assert.deepEqual(p.buildDefinition.resolvedDependencies[0], {
      uri: 'git+https://github.com/acme/api@refs/heads/release@2024',
      digest: { gitCommit: SHA },
    });
    assert.equal(p.buildDefinition.resolvedDependencies[1]?.name, 'docker.io/library/debian');
    assert.equal(
      p.runDetails.builder.id,
      'https://github.com/acme/api/.github/workflows/release.yml@refs/heads/release@2024',
    );
    assert.deepEqual(p.runDetails.metadata, {
      invocationId: 'https://github.com/acme/api/actions/runs/987/attempts/2',
      startedOn: '2026-01-02T03:04:05Z',
      finishedOn: '2026-01-02T03:09:00Z',
    });
  });

  it('GitLab CI and the local-git fallback', () => {
    const gitlab = detectBuildContext(
      {
        GITLAB_CI: 'true',
        CI_PROJECT_URL: 'https://gitlab.example.com/acme/api',
        CI_SERVER_URL: 'https://gitlab.example.com',
        CI_COMMIT_SHA: SHA,
        CI_COMMIT_REF_NAME: 'main',
        CI_JOB_ID: '77',
        CI_JOB_URL: 'https://gitlab.example.com/acme/api/-/jobs/77',
        CI_PIPELINE_ID: '66',
        CI_RUNNER_ID: '5',
      },
      noGit,
    );
    assert.equal(gitlab.buildType, GITLAB_BUILD_TYPE);
    assert.equal(gitlab.invocationId, 'https://gitlab.example.com/acme/api/-/jobs/77');
    assert.equal(gitlab.builderId, 'https://gitlab.example.com/runners/5');
    assert.deepEqual(gitlab.source, {
      uri: 'git+https://gitlab.example.com/acme/api@refs/heads/main',
      digest: { gitCommit: SHA },
    });
    assert.deepEqual(gitlab.internalParameters, { gitlab: { pipeline_id: '66', job_id: '77', runner_id: '5' } });

    const local = detectBuildContext({}, () => ({
      commit: SHA,
      remote: 'https://example.com/r.git',
      ref: 'refs/heads/dev',
    }));
    assert.equal(local.buildType, LOCAL_BUILD_TYPE);
    assert.deepEqual(local.source, { uri: 'git+https://example.com/r.git@refs/heads/dev', digest: { gitCommit: SHA } });
    assert.match(local.invocationId, /^urn:uuid:[0-9a-f-]{36}$/);
    assert.equal(detectBuildContext({}, noGit).source, undefined);
    assert.equal(rfc3339(new Date(0)), '1970-01-01T00:00:00Z');
  });

  it('CLI: a statement over a file subject, with the SBOM as byproduct and the local git commit', async (t) => {
    const dir = await tempDir(t);
    await run('git', ['init', '-q', dir]);
    await run('git', [
      '-C',
      dir,
      '-c',
      'user.email=t@e',
      '-c',
      'user.name=t',
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      'x',
    ]);
    const head = (await run('git', ['-C', dir, 'rev-parse', 'HEAD'])).stdout.trim();
    await writeFile(join(dir, 'app.tar'), 'artifact');
    await writeFile(join(dir, 'sbom.json'), '{"bomFormat":"CycloneDX"}');
    const r = await runCli(
      [
        'provenance',
        ...['--subject', join(dir, 'app.tar'), '--sbom', join(dir, 'sbom.json'), '--statement'],
        ...['--started-on', '2026-01-01T00:00:00Z', '--source-dir', dir],
      ],
      { env: { GITHUB_ACTIONS: '', GITLAB_CI: '' } },
    );
    assert.equal(r.code, 0, r.stderr);
    const statement = JSON.parse(r.stdout);
    assert.equal(statement._type, 'https://in-toto.io/Statement/v1');
    assert.equal(statement.predicateType, 'https://slsa.dev/provenance/v1');
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    assert.deepEqual(statement.subject, [{ name: 'app.tar', digest: { sha256: sha('artifact') } }]);
    assert.equal(statement.predicate.buildDefinition.resolvedDependencies[0].digest.gitCommit, head);
    assert.deepEqual(statement.predicate.runDetails.byproducts, [
      { name: 'sbom.json', digest: { sha256: sha('{"bomFormat":"CycloneDX"}') }, annotations: { role: 'sbom' } },
    ]);
    assert.equal(statement.predicate.runDetails.metadata.startedOn, '2026-01-01T00:00:00Z');

    const bad = await runCli(['provenance', '--statement']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /needs at least one --subject/);
  });
});
