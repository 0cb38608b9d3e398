// The CI files users copy or call: action.yml, the reusable provenance workflow and the GitLab component. They are
// configuration, not code this repository runs, so these checks hold the properties that make them safe to call:
// every third-party step pinned by commit SHA, no expression expanded inside a shell script, least permissions.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../../engine/test/helpers/paths.js';

type Yaml = Record<string, unknown>;
const read = (path: string): Yaml => parse(readFileSync(join(REPO_ROOT, path), 'utf8')) as Yaml;

function steps(workflow: Yaml): Yaml[] {
  return Object.values((workflow['jobs'] ?? {}) as Record<string, Yaml>).flatMap(
    (job) => (job['steps'] ?? []) as Yaml[],
  );
}

describe('CI files', () => {
  it('action.yml: a node24 JavaScript action whose main and post bundles are committed', () => {
    const action = read('action.yml');
    const runs = action['runs'] as Yaml;
    assert.equal(runs['using'], 'node24');
    assert.equal(runs['main'], 'dist/action/index.js');
    assert.equal(runs['post'], 'dist/action/post.js');
    assert.equal(runs['post-if'], 'always()', 'the cache is saved when the job failed too');
    for (const file of ['index.js', 'post.js', 'package.json'])
      assert.ok(existsSync(join(REPO_ROOT, 'dist/action', file)));
    const inputs = action['inputs'] as Record<string, Yaml>;
    for (const name of [
      'command',
      'image',
      'platform',
      'fail-on',
      'severity',
      'ignore-unfixed',
      'policy',
      'baseline',
      'vex',
      'outputs',
      'sarif',
      'upload-sarif',
      'sarif-category',
      'db-cache',
      'offline',
      'key',
      'push',
      'tags',
      'store',
      'server-url',
      'pr-comment',
      'issue-lifecycle',
      'summary',
    ]) {
      assert.ok(inputs[name], `input ${name} (PIPELINE.md 1.4)`);
    }
    assert.equal(inputs['fail-on']!['default'], 'high');
    assert.equal(inputs['pr-threshold']!['default'], 'medium');
    const outputs = Object.keys(action['outputs'] as Yaml);
    for (const name of [
      'digest',
      'report',
      'sarif',
      'sbom-cyclonedx',
      'sbom-spdx',
      'critical',
      'high',
      'medium',
      'low',
      'unknown',
      'total',
      'new-findings',
      'gate',
      'exit-code',
    ]) {
      assert.ok(outputs.includes(name), `output ${name}`);
    }
  });

  it('workflows: steps pinned by commit SHA, no expression inside run:, no permission granted by default', () => {
    const dir = join(REPO_ROOT, '.github/workflows');
    const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
    assert.ok(files.includes('provenance.yml'));
    for (const file of files) {
      const workflow = read(`.github/workflows/${file}`);
      assert.deepEqual(workflow['permissions'], {}, `${file}: top-level permissions: {}`);
      for (const step of steps(workflow)) {
        if (typeof step['uses'] === 'string' && !step['uses'].startsWith('./')) {
          assert.match(step['uses'], /@[0-9a-f]{40}$/, `${file}: ${step['uses']} pinned by SHA`);
        }
        if (typeof step['run'] === 'string') assert.doesNotMatch(step['run'], /\$\{\{/, `${file}: expression in run:`);
      }
    }
  });

  it('provenance workflow: a job of its own, reached by workflow_call, with contents: read and packages: write only', () => {
    const workflow = read('.github/workflows/provenance.yml');
    assert.ok((workflow['on'] as Yaml)['workflow_call']);
    const jobs = workflow['jobs'] as Record<string, Yaml>;
    assert.deepEqual(Object.keys(jobs), ['provenance']);
    assert.deepEqual(jobs['provenance']!['permissions'], { contents: 'read', packages: 'write' });
    assert.ok(jobs['provenance']!['environment'], 'the key lives in an environment only this job uses');
  });

  it('GitLab component: no expression of the job reaches the script except through variables', () => {
    const [, body] = readFileSync(join(REPO_ROOT, 'templates/lading.yml'), 'utf8').split(/^---$/m);
    const job = Object.values(parseAllDocuments(body!)[0]!.toJS() as Record<string, Yaml>)[0]!;
    for (const line of job['script'] as string[])
      assert.doesNotMatch(line, /\$\[\[/, 'inputs reach the script as variables');
  });
});
