// A policy rule `type: secrets` gates on the report's secrets: by severity, by rule id, with triaged fingerprints
// ignored and an allowed count; its messages show the secret only redacted.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { SecretFinding } from '../../src/model/secret.js';
import { evaluatePolicy } from '../../src/policy/evaluate.js';
import { loadPolicy } from '../../src/policy/policy-file.js';
import { report } from '../helpers/reports.js';
import { tempDir } from '../helpers/tmp.js';

const SECRETS: SecretFinding[] = [
  {
    ruleId: 'private-key',
    title: 'Private key',
    severity: 'CRITICAL',
    path: '/root/.ssh/id_rsa',
    line: 1,
    redacted: 'MIIE…(1592)',
    fingerprint: 'aa'.repeat(16),
    layer: 'sha256:1',
    removedIn: 'sha256:2',
  },
  {
    ruleId: 'jwt',
    title: 'JSON Web Token',
    severity: 'MEDIUM',
    path: '/app/README',
    line: 3,
    redacted: 'eyJh…(120)',
    fingerprint: 'bb'.repeat(16),
    layer: 'sha256:1',
  },
];

async function policyOf(t: Parameters<typeof tempDir>[0], rule: string) {
  const file = join(await tempDir(t), 'policy.yaml');
  await writeFile(file, `version: 1\nrules:\n  - id: secrets\n    type: secrets\n    action: fail\n${rule}`);
  return loadPolicy(file);
}

describe('policy: secrets rules', () => {
  const withSecrets = report('app:1', [], [], { secrets: SECRETS });

  test('severity: high fails on the private key alone, deleted or not, and shows it redacted', async (t) => {
    const verdict = evaluatePolicy(withSecrets, await policyOf(t, '    severity: high\n'));
    assert.equal(verdict.pass, false);
    assert.deepEqual(
      verdict.violations.map((v) => v.message),
      [
        `Private key (CRITICAL) MIIE…(1592) in /root/.ssh/id_rsa:1, deleted by a later layer but still in the image [${'aa'.repeat(16)}]`,
      ],
    );
  });

  test('ignore (triaged fingerprints), ids and max narrow it; a report without secrets passes', async (t) => {
    assert.equal(
      evaluatePolicy(withSecrets, await policyOf(t, `    ignore: ['${'aa'.repeat(16)}']\n    severity: high\n`)).pass,
      true,
    );
    assert.equal(evaluatePolicy(withSecrets, await policyOf(t, '    ids: [jwt]\n')).violations.length, 1);
    assert.equal(evaluatePolicy(withSecrets, await policyOf(t, '    max: 2\n')).pass, true);
    assert.equal(evaluatePolicy(report('app:1', [], []), await policyOf(t, '')).pass, true);
  });

  test('a bad fingerprint or an unknown field is refused with its line', async (t) => {
    await assert.rejects(
      policyOf(t, '    ignore: [nothex]\n'),
      /policy\.yaml:\d+:\d+: invalid policy: rules\[0\]\.ignore\[0\]/,
    );
    await assert.rejects(policyOf(t, '    paths: [/x]\n'), /rules\[0\]\.paths: unknown field/);
  });

  test('the documented example policy has a secrets rule', async () => {
    const policy = await loadPolicy(new URL('../../../docs/policy.example.yaml', import.meta.url).pathname);
    assert.ok(policy.rules.some((r) => r.type === 'secrets' && r.severity === 'HIGH'));
  });
});
