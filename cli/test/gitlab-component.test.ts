// The GitLab CI/CD component (templates/lading.yml) as a runner would run its job: the spec's inputs interpolated
// ($[[ inputs.x ]]), the job's variables expanded against CI_* variables, and its script run in bash, with the CLI
// from source standing in for `npx lading@VERSION` (LADING_COMMAND).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { runCli } from '../../engine/test/helpers/cli.js';
import { REPO_ROOT } from '../../engine/test/helpers/paths.js';
import { tempDir } from '../../engine/test/helpers/tmp.js';

const TEMPLATE = join(REPO_ROOT, 'templates/lading.yml');
const ROOTFS = join(REPO_ROOT, 'engine/test/fixtures/smoke/rootfs');
const OSV = join(REPO_ROOT, 'engine/test/fixtures/smoke/osv');

interface Spec {
  spec: { inputs: Record<string, { default?: string; options?: string[] }> };
}
interface Job {
  variables: Record<string, string>;
  script: string[];
  rules: { if?: string; variables?: Record<string, string> }[];
  cache: { key: string; paths: string[]; policy: string }[];
  artifacts: { when: string; reports: Record<string, string> };
}

/** GitLab's interpolation of the spec's inputs into the rest of the file; an option outside the list is an error. */
function component(inputs: Record<string, string>): Record<string, Job> {
  const [header, body] = readFileSync(TEMPLATE, 'utf8').split(/^---$/m);
  const spec = (parseAllDocuments(header!)[0]!.toJS() as Spec).spec.inputs;
  for (const name of Object.keys(inputs)) assert.ok(spec[name], `unknown input ${name}`);
  const text = body!.replace(/\$\[\[\s*inputs\.([\w-]+)\s*\]\]/g, (_, name: string) => {
    const value = inputs[name] ?? spec[name]?.default;
    assert.notEqual(value, undefined, `input ${name} has no value`);
    if (spec[name]?.options) assert.ok(spec[name].options.includes(value!), `${name}: ${value} is not an option`);
    return value!;
  });
  return parseAllDocuments(text)[0]!.toJS() as Record<string, Job>;
}

/** Variables referring to others (`$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA`) are expanded when the job is created. */
function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{?(\w+)\}?/g, (_, name: string) => env[name] ?? '');
}

async function runJob(
  t: { after(fn: () => unknown): void },
  inputs: Record<string, string>,
  ci: Record<string, string> = {},
) {
  const project = await tempDir(t);
  const imported = await runCli(['db', 'import', OSV], { env: { LADING_DB_DIR: join(project, '.lading/db') } });
  assert.equal(imported.code, 0, imported.stderr);
  // stands in for `npx lading@VERSION`, and keeps the registry credentials file the script wrote for Lading
  const wrapper = join(project, 'lading-wrapper.sh');
  writeFileSync(
    wrapper,
    `#!/usr/bin/env bash\n[ -n "\${DOCKER_CONFIG:-}" ] && cp "$DOCKER_CONFIG/config.json" "${project}/seen-docker-config.json"\nexec "${process.execPath}" --conditions=source --import "${import.meta.resolve('tsx')}" "${join(REPO_ROOT, 'cli/src/bin.ts')}" "$@"\n`,
  );
  chmodSync(wrapper, 0o755);
  const jobs = component(inputs);
  const [name, job] = Object.entries(jobs)[0]!;
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOME: project,
    CI: 'true',
    GITLAB_CI: 'true',
    CI_PROJECT_DIR: project,
    CI_REGISTRY: 'registry.gitlab.example',
    CI_REGISTRY_IMAGE: 'registry.gitlab.example/acme/shop',
    CI_REGISTRY_USER: 'gitlab-ci-token',
    CI_REGISTRY_PASSWORD: 'job-token-secret',
    CI_COMMIT_SHA: 'b'.repeat(40),
    CI_COMMIT_SHORT_SHA: 'bbbbbbbb',
    CI_PIPELINE_SOURCE: 'push',
    LADING_COMMAND: wrapper,
    LADING_SKIP_DB_UPDATE: '1',
    LADING_OFFLINE: '1',
    ...ci,
  };
  for (const [key, value] of Object.entries(job.variables)) env[key] = expand(value, env);
  const run = spawnSync('bash', ['-c', job.script.join('\n')], { cwd: project, env, encoding: 'utf8' });
  return { project, name, job, code: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('GitLab component', () => {
  it('a failing gate still leaves the container-scanning report, CycloneDX and JUnit artifacts', async (t) => {
    const run = await runJob(t, { 'image-ref': `dir:${ROOTFS}` });
    assert.equal(run.name, 'lading-scan');
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /lading: exit 1 \(0 pass, 1 gate failed/);
    assert.equal(run.job.artifacts.when, 'always');
    const reports = run.job.artifacts.reports;
    const cs = JSON.parse(readFileSync(join(run.project, reports['container_scanning']!), 'utf8')) as {
      scan: { type: string };
      vulnerabilities: { severity: string; location: { operating_system: string } }[];
    };
    assert.equal(cs.scan.type, 'container_scanning');
    assert.deepEqual(
      cs.vulnerabilities.map((v) => v.severity),
      ['High', 'High'],
    );
    assert.equal(cs.vulnerabilities[0]!.location.operating_system, 'debian:12');
    const cdx = JSON.parse(readFileSync(join(run.project, reports['cyclonedx']!), 'utf8')) as { specVersion: string };
    assert.equal(cdx.specVersion, '1.6');
    assert.match(readFileSync(join(run.project, reports['junit']!), 'utf8'), /<failure type="HIGH"/);
    // the job token became registry credentials for Lading, and was never printed
    const config = JSON.parse(readFileSync(join(run.project, 'seen-docker-config.json'), 'utf8')) as {
      auths: Record<string, { auth: string }>;
    };
    assert.equal(
      Buffer.from(config.auths['registry.gitlab.example']!.auth, 'base64').toString(),
      'gitlab-ci-token:job-token-secret',
    );
    assert.doesNotMatch(run.output, /job-token-secret/);
  });

  it('inputs: fail-on none passes, the CycloneDX version is honoured, an unknown option is refused', async (t) => {
    const run = await runJob(t, { 'image-ref': `dir:${ROOTFS}`, 'fail-on': 'none', 'cyclonedx-version': '1.5' });
    assert.equal(run.code, 0, run.output);
    const cdx = JSON.parse(readFileSync(join(run.project, 'gl-sbom-lading.cdx.json'), 'utf8')) as {
      specVersion: string;
    };
    assert.equal(cdx.specVersion, '1.5');
    assert.throws(() => component({ 'fail-on': 'severe' }), /not an option/);
  });

  it('merge-request pipelines only read the database cache; branch pipelines write it', () => {
    const job = Object.values(component({}))[0]!;
    assert.equal(job.cache[0]!.policy, '$LADING_CACHE_POLICY');
    assert.deepEqual(job.cache[0]!.paths, ['.lading/db']);
    const mr = job.rules.find((r) => r.if?.includes('merge_request_event'));
    assert.equal(mr?.variables?.['LADING_CACHE_POLICY'], 'pull');
    assert.equal(job.rules.at(-1)?.variables?.['LADING_CACHE_POLICY'], 'pull-push');
  });
});
