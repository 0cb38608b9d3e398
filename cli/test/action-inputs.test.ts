import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actionInputsFrom, githubContextFrom } from '../src/action/environment.js';
import { categorizeSarif, SARIF_MAX_RESULTS } from '../src/action/github.js';
import { cliArguments } from '../src/action/main.js';

const github = githubContextFrom({ RUNNER_TEMP: '/rt', GITHUB_WORKSPACE: '/ws' });

describe('Action inputs', () => {
  it('are read from INPUT_* as the runner names them (upper case, hyphens kept), with action.yml defaults', () => {
    const inputs = actionInputsFrom({
      INPUT_IMAGE: ' oci:build ',
      'INPUT_FAIL-ON': 'critical',
      INPUT_TAGS: 'v1, latest\nedge',
    });
    assert.equal(inputs.image, 'oci:build');
    assert.equal(inputs.failOn, 'critical');
    assert.deepEqual(inputs.tags, ['v1', 'latest', 'edge']);
    assert.equal(inputs.sarif, 'lading.sarif');
    assert.equal(inputs.dbCache, true);
    assert.equal(inputs.prThreshold, 'medium');
    assert.equal(github.dbDir, '/rt/lading-db');
  });

  it('an empty sarif disables it; fail-on none removes the gate; a non-boolean or a missing image is exit 2', () => {
    const inputs = actionInputsFrom({ INPUT_IMAGE: 'x', INPUT_SARIF: '', 'INPUT_FAIL-ON': 'none' });
    assert.equal(inputs.sarif, undefined);
    assert.equal(inputs.failOn, undefined);
    assert.throws(
      () => actionInputsFrom({ INPUT_IMAGE: 'x', INPUT_PUSH: 'yes' }),
      /input push: "yes" is not a boolean/,
    );
    assert.throws(() => actionInputsFrom({}), /input image is required/);
    assert.throws(
      () => actionInputsFrom({ INPUT_IMAGE: 'x', INPUT_COMMAND: 'deploy' }),
      /not one of scan, sbom, pipeline/,
    );
    assert.throws(
      () => actionInputsFrom({ INPUT_IMAGE: 'x', 'INPUT_UPLOAD-SARIF': 'true', INPUT_SARIF: '' }),
      /upload-sarif is true but sarif is empty/,
    );
  });

  it('become the CLI command: only given inputs turn into flags', () => {
    const scan = actionInputsFrom({ INPUT_IMAGE: 'oci:b', 'INPUT_FAIL-ON': 'high', INPUT_VEX: 'a.json\nb.json' });
    assert.deepEqual(cliArguments(scan, github, '/ws/lading.json'), [
      'scan',
      'oci:b',
      '--db-dir',
      '/rt/lading-db',
      '-o',
      'table',
      '-o',
      'json=/ws/lading.json',
      '-o',
      'sarif=lading.sarif',
      '--fail-on',
      'high',
      '--vex',
      'a.json',
      '--vex',
      'b.json',
    ]);
    const sbom = actionInputsFrom({
      INPUT_IMAGE: 'oci:b',
      INPUT_COMMAND: 'sbom',
      INPUT_OUTPUTS: 'cyclonedx-json=s.cdx.json',
      INPUT_SARIF: '',
    });
    assert.deepEqual(cliArguments(sbom, github, 'r.json'), [
      'scan',
      'oci:b',
      '--db-dir',
      '/rt/lading-db',
      '--sbom-only',
      '-o',
      'table',
      '-o',
      'cyclonedx-json=s.cdx.json',
      '-o',
      'json=r.json',
    ]);
  });

  it('pipeline: needs the repository, and passes tags, key, push, store and server', () => {
    assert.throws(
      () => actionInputsFrom({ INPUT_IMAGE: 'oci:b', INPUT_COMMAND: 'pipeline' }),
      /input repository is required/,
    );
    const inputs = actionInputsFrom({
      INPUT_IMAGE: 'oci:b',
      INPUT_COMMAND: 'pipeline',
      INPUT_REPOSITORY: 'ghcr.io/acme/shop',
      INPUT_TAGS: 'v1',
      INPUT_KEY: 'env://COSIGN_KEY',
      INPUT_PUSH: 'true',
      INPUT_STORE: 's3://rel/shop',
      'INPUT_SERVER-URL': 'https://lading.example',
    });
    assert.deepEqual(cliArguments(inputs, github, ''), [
      'pipeline',
      'oci:b',
      '--db-dir',
      '/rt/lading-db',
      '--image',
      'ghcr.io/acme/shop',
      '--tag',
      'v1',
      '--key',
      'env://COSIGN_KEY',
      '--push',
      '--store',
      's3://rel/shop',
      '--notify',
      'https://lading.example',
      '--out',
      '/ws/.lading/pipeline',
    ]);
  });
});

describe('SARIF for code scanning', () => {
  it('gets its category and stays within 20 runs and 25,000 results a run, saying what it dropped', () => {
    const run = (n: number) => ({
      tool: { driver: { name: 'lading' } },
      results: Array.from({ length: n }, (_, i) => ({ i })),
    });
    const { text, dropped } = categorizeSarif(
      JSON.stringify({
        version: '2.1.0',
        runs: [run(SARIF_MAX_RESULTS + 3), ...Array.from({ length: 20 }, () => run(1))],
      }),
      'lading/app',
    );
    const sarif = JSON.parse(text) as { runs: { automationDetails: { id: string }; results: { i: number }[] }[] };
    assert.equal(sarif.runs.length, 20);
    assert.equal(sarif.runs[0]!.results.length, SARIF_MAX_RESULTS);
    assert.equal(sarif.runs[0]!.results.at(-1)!.i, SARIF_MAX_RESULTS - 1, 'the first (most severe) results are kept');
    assert.ok(sarif.runs.every((r) => r.automationDetails.id === 'lading/app/'));
    assert.deepEqual(dropped, ["1 runs beyond GitHub's 20", "3 least severe results beyond GitHub's 25000"]);
  });
});
