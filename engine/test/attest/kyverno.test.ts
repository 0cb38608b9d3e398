// `lading kyverno`'s policy: its structure against a schema of Kyverno's ClusterPolicy, and its meaning, by evaluating
// it (kyverno-evaluator.ts) on images in a real registry that Lading signed and attested.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { attestImage } from '../../src/attest/image-attestations.js';
import { signImage } from '../../src/attest/image-signatures.js';
import { resolveImage } from '../../src/attest/image-target.js';
import { kyvernoPolicy, kyvernoPolicyYaml } from '../../src/attest/kyverno.js';
import { PREDICATE_TYPES } from '../../src/attest/predicate-types.js';
import { attachmentRegistry } from '../../src/attest/registry-adapter.js';
import { LadingError } from '../../src/errors/lading-error.js';
import { RegistryClient } from '../../src/registry/client.js';
import { ENGINE_ROOT } from '../helpers/paths.js';
import { pushOneLayerImage, startRegistry, suiteCleanup, type TestRegistry } from '../helpers/registry.js';
import { admitImage, evaluate } from './kyverno-evaluator.js';

const BUILDER = 'https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main';

function schemaValidator() {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const schema = JSON.parse(
    readFileSync(`${ENGINE_ROOT}/test/schemas/kyverno-clusterpolicy-subset.schema.json`, 'utf8'),
  );
  return ajv.compile(schema);
}

const newKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });

describe('kyverno policy: structure', () => {
  const validate = schemaValidator();
  const key = newKey().publicKey;

  it('with every option, is a valid ClusterPolicy subset; YAML round-trips; the key is the SPKI PEM', () => {
    const options = {
      publicKey: key,
      attestations: ['slsaprovenance1', 'cyclonedx', 'vuln'],
      imagePatterns: ['registry.example.com/team/*'],
      builderId: BUILDER,
      denySeverities: ['critical'],
      registries: ['registry.example.com/*', 'ghcr.io/org/*'],
    };
    const policy = kyvernoPolicy(options);
    assert.ok(validate(policy), JSON.stringify(validate.errors?.slice(0, 3)));
    const yaml = kyvernoPolicyYaml(options);
    assert.deepEqual(parse(yaml), policy);
    assert.match(yaml, /publicKeys: \|-\n +-----BEGIN PUBLIC KEY-----\n/);
    const spec = policy['spec'] as {
      validationFailureAction: string;
      rules: { name: string; verifyImages?: unknown[] }[];
    };
    assert.equal(spec.validationFailureAction, 'Enforce');
    assert.deepEqual(
      spec.rules.map((r) => r.name),
      [
        'verify-signature',
        'verify-attestations',
        'require-run-as-non-root',
        'disallow-privileged-containers',
        'require-read-only-root-filesystem',
        'disallow-host-namespaces',
        'require-resource-limits',
        'restrict-image-registries',
      ],
    );
    const entry = spec.rules[1]?.verifyImages?.[0] as { attestations: { type: string; conditions?: unknown }[] };
    const attestations = entry.attestations;
    assert.deepEqual(
      attestations.map((a) => a.type),
      [PREDICATE_TYPES['slsaprovenance1'], PREDICATE_TYPES['cyclonedx'], PREDICATE_TYPES['vuln']],
    );
    assert.equal(attestations[1]?.conditions, undefined);
  });

  it('Audit mode never mutates tags to digests; no attestation rule or allowlist unless asked', () => {
    const policy = kyvernoPolicy({ publicKey: key, mode: 'Audit' });
    assert.ok(validate(policy), JSON.stringify(validate.errors?.slice(0, 3)));
    const spec = policy['spec'] as {
      validationFailureAction: string;
      rules: { name: string; verifyImages?: { mutateDigest: boolean; imageReferences: string[] }[] }[];
    };
    assert.equal(spec.validationFailureAction, 'Audit');
    assert.equal(spec.rules[0]?.verifyImages?.[0]?.mutateDigest, false);
    assert.deepEqual(spec.rules[0]?.verifyImages?.[0]?.imageReferences, ['*']);
    assert.ok(!spec.rules.some((r) => r.name === 'verify-attestations' || r.name === 'restrict-image-registries'));
  });

  it('refuses conditions without the attestation they read, unknown types and severities, and private keys', () => {
    const usage = (option: string) => (err: unknown) =>
      err instanceof LadingError && err.code === 'USAGE' && err.option === option;
    assert.throws(() => kyvernoPolicy({ publicKey: key, builderId: BUILDER }), usage('builderId'));
    assert.throws(() => kyvernoPolicy({ publicKey: key, denySeverities: ['critical'] }), usage('denySeverities'));
    assert.throws(
      () => kyvernoPolicy({ publicKey: key, attestations: ['vuln'], denySeverities: ['severe'] }),
      usage('denySeverities'),
    );
    assert.throws(() => kyvernoPolicy({ publicKey: key, attestations: ['nonsense'] }), usage('attestations'));
    assert.throws(() => kyvernoPolicy({ publicKey: newKey().privateKey }), usage('key'));
  });

  it('the condition expressions evaluate as JMESPath on Trivy and Lading vulnerability results', () => {
    // Condition 0 reads a Trivy result, condition 1 a Lading report.
    const count = (result: unknown, which: number) => {
      const policy = kyvernoPolicy({ publicKey: key, attestations: ['vuln'], denySeverities: ['CRITICAL'] });
      const rules = (
        policy['spec'] as {
          rules: { verifyImages?: { attestations?: { conditions: { all: { key: string }[] }[] }[] }[] }[];
        }
      ).rules;
      const condition = rules[1]?.verifyImages?.[0]?.attestations?.[0]?.conditions[0]?.all[which];
      return evaluate(/^\{\{ (.*) \}\}$/.exec(condition?.key ?? '')?.[1] ?? '', { scanner: { result } });
    };
    const crit = { Severity: 'CRITICAL' };
    assert.equal(
      count({ Results: [{ Vulnerabilities: [crit, crit] }, { Vulnerabilities: [{ Severity: 'LOW' }] }] }, 0),
      2,
    );
    assert.equal(count({ Results: [{ Target: 'x' }] }, 0), 0);
    assert.equal(count({}, 0), 0);
    const finding = (severity: string, suppressed?: object) => ({ severity, ...(suppressed ? { suppressed } : {}) });
    assert.equal(
      count({ findings: [finding('CRITICAL'), finding('CRITICAL', { kind: 'vex' }), finding('HIGH')] }, 1),
      1,
    );
    assert.equal(count({ findings: [] }, 1), 0);
  });
});

describe('kyverno policy: Lading signatures and attestations satisfy it', () => {
  const cleanup = suiteCleanup();
  let registry: TestRegistry;
  let client: RegistryClient;
  const port = attachmentRegistry();

  before(async () => {
    registry = await startRegistry(cleanup);
    client = new RegistryClient();
  });

  async function pushImage(repository: string, tag: string, content: string): Promise<string> {
    const { digest } = await pushOneLayerImage(client, registry.host, repository, tag, content);
    return `${registry.host}/${repository}@${digest}`;
  }

  const provenance = (builderId: string) => ({
    buildDefinition: {
      buildType: 'https://actions.github.io/buildtypes/workflow/v1',
      externalParameters: {
        workflow: {
          ref: 'refs/heads/main',
          repository: 'https://github.com/org/repo',
          path: '.github/workflows/release.yml',
        },
      },
      internalParameters: {},
      resolvedDependencies: [],
    },
    runDetails: {
      builder: { id: builderId },
      metadata: { invocationId: 'run-1', startedOn: '2026-12-01T00:00:00Z', finishedOn: '2026-12-01T00:01:00Z' },
      byproducts: [],
    },
  });
  const vulnReport = (severities: string[]) => ({
    scanner: {
      uri: 'pkg:npm/lading@0.1.0',
      version: '0.1.0',
      result: { findings: severities.map((severity, i) => ({ id: `CVE-2026-${i}`, severity })) },
    },
    metadata: { scanStartedOn: '2026-12-01T00:00:00Z', scanFinishedOn: '2026-12-01T00:01:00Z' },
  });

  async function signedAndAttested(
    repository: string,
    key: ReturnType<typeof newKey>,
    builderId: string,
    severities: string[],
  ) {
    const image = await pushImage(repository, '1.0', `${repository} content`);
    const resolved = await resolveImage(port, image);
    await signImage(port, resolved, key.privateKey, {});
    await attestImage(
      port,
      resolved,
      key.privateKey,
      PREDICATE_TYPES['slsaprovenance1'] as string,
      provenance(builderId),
    );
    await attestImage(port, resolved, key.privateKey, PREDICATE_TYPES['vuln'] as string, vulnReport(severities));
    return image;
  }

  const policyFor = (publicKey: ReturnType<typeof newKey>['publicKey']) =>
    parse(
      kyvernoPolicyYaml({
        publicKey,
        attestations: ['slsaprovenance1', 'vuln'],
        imagePatterns: [`${registry.host}/team/*`],
        builderId: BUILDER,
        denySeverities: ['critical'],
      }),
    );

  it('admits an image Lading signed and attested with the key, the builder and no CRITICAL', async () => {
    const key = newKey();
    const image = await signedAndAttested('team/good', key, BUILDER, ['HIGH', 'LOW']);
    assert.deepEqual(await admitImage(policyFor(key.publicKey), image, port), { allowed: true, reasons: [] });
  });

  it('denies an unsigned image, a wrong key, another builder, a CRITICAL finding and a missing attestation', async () => {
    const key = newKey();
    const policy = policyFor(key.publicKey);
    const unsigned = await pushImage('team/unsigned', '1.0', 'unsigned');
    const denied = async (image: string, p: unknown, pattern: RegExp) => {
      const verdict = await admitImage(p, image, port);
      assert.equal(verdict.allowed, false);
      assert.ok(
        verdict.reasons.some((r) => pattern.test(r)),
        verdict.reasons.join('\n'),
      );
    };
    await denied(unsigned, policy, /verify-signature: .*no signatures found/);
    const good = await signedAndAttested('team/other-key', key, BUILDER, []);
    await denied(good, policyFor(newKey().publicKey), /verify-signature: signature not verified/);
    await denied(
      await signedAndAttested('team/builder', key, 'https://evil.example/builder', []),
      policy,
      /provenance\/v1: conditions not met/,
    );
    await denied(
      await signedAndAttested('team/critical', key, BUILDER, ['CRITICAL']),
      policy,
      /vuln\/v1: conditions not met/,
    );
    const signedOnly = await pushImage('team/signed-only', '1.0', 'signed only');
    await signImage(port, await resolveImage(port, signedOnly), key.privateKey, {});
    await denied(signedOnly, policy, /verify-attestations: .*no attestations found/);
    // Images outside the patterns are not this policy's business.
    assert.equal((await admitImage(policy, unsigned.replace('/team/', '/elsewhere/'), port)).allowed, true);
  });
});
