import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { runCli } from '../../engine/test/helpers/cli.js';
import { tempDir } from '../../engine/test/helpers/tmp.js';

describe('lading kyverno', () => {
  it('writes the ClusterPolicy for the key and attestations, to a file or standard output', async (t) => {
    const dir = await tempDir(t);
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' });
    await writeFile(join(dir, 'cosign.pub'), pem);
    const out = join(dir, 'policy.yaml');
    const args = ['kyverno', '--key', join(dir, 'cosign.pub'), '--attestation', 'slsaprovenance1'];
    const r = await runCli([...args, '--builder-id', 'https://ci.example/builder', '--mode', 'audit', '-o', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const policy = parse(await readFile(out, 'utf8'));
    assert.equal(policy.kind, 'ClusterPolicy');
    assert.equal(policy.spec.validationFailureAction, 'Audit');
    const keys = policy.spec.rules[0].verifyImages[0].attestors[0].entries[0].keys;
    assert.equal(`${keys.publicKeys}\n`, pem);
    assert.deepEqual(policy.spec.rules[1].verifyImages[0].attestations[0].conditions, [
      { all: [{ key: '{{ runDetails.builder.id }}', operator: 'Equals', value: 'https://ci.example/builder' }] },
    ]);
    const toStdout = await runCli(args);
    assert.equal(toStdout.code, 0, toStdout.stderr);
    assert.equal(parse(toStdout.stdout).spec.validationFailureAction, 'Enforce');
  });

  it('usage errors name the flag and exit 2', async (t) => {
    const dir = await tempDir(t);
    const key = join(dir, 'cosign.pub');
    await writeFile(
      key,
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }),
    );
    for (const [extra, words] of [
      [['--builder-id', 'x'], /^lading: --builder-id is checked in a provenance attestation/],
      [['--deny-severity', 'critical'], /^lading: --deny-severity is checked in a vulnerability attestation/],
      [['--attestation', 'nonsense'], /^lading: --attestation nonsense: not a known predicate type/],
      [['--mode', 'strict'], /^lading: --mode strict: choose Enforce or Audit/],
    ] as const) {
      const r = await runCli(['kyverno', '--key', key, ...extra]);
      assert.equal(r.code, 2, `${extra.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, words);
    }
  });
});
