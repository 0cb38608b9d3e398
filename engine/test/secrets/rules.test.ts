// The secret rules: each compiles on this Node, finds what it is for, and stays fast on hostile input (a 1 MB line
// built to make a backtracking engine try every start and every split).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  compileRules,
  isPackageFixture,
  isSecretCandidate,
  OVERLAP,
  REJECTED_GITLEAKS_RULES,
  redact,
  SECRET_RULES,
  scanBuffer,
  secretFingerprint,
} from '../../src/secrets/index.js';

const rules = compileRules();
const scan = (text: string, path = '/app/config') => scanBuffer(rules, path, Buffer.from(text))?.matches ?? [];
const ruleIds = (text: string) => scan(text).map((m) => m.rule);

// Built from pieces so this file is no credential itself (and no scanner flags it).
const GHP = `${'ghp'}_${'R2u9xK4mPq7sT1vW3yZ5bC8dF0gH6jL2nQ4r'}`;
const AWS_ID = `${'AKIA'}${'Q3WJ5XNZ7PLKR4TE'}`;
const AWS_SECRET = `${'k8Zq/3vNwy'}${'R7tYp2LmX9cB4hJ6fG1dS5aE0uQ+Wz'}`;

describe('secret rules', () => {
  test('every rule compiles on this Node (with the g flag) and names a known severity and keywords', () => {
    for (const rule of SECRET_RULES) {
      assert.doesNotThrow(() => new RegExp(rule.pattern, `g${rule.flags ?? ''}`), rule.id);
      assert.ok(rule.keywords.length > 0, rule.id);
      for (const k of rule.keywords) assert.equal(k, k.toLowerCase(), `${rule.id}: keywords are lower case`);
    }
    assert.equal(new Set(SECRET_RULES.map((r) => r.id)).size, SECRET_RULES.length);
  });

  test('rejected gitleaks rules each have a reason and none is also kept', () => {
    const kept = new Set(SECRET_RULES.map((r) => r.id));
    for (const r of REJECTED_GITLEAKS_RULES) {
      assert.ok(r.reason.length > 10, r.id);
      assert.equal(kept.has(r.id), false, r.id);
    }
    // The README names every rejected rule.
    const readme = readFileSync(new URL('../../src/secrets/README.md', import.meta.url), 'utf8');
    for (const r of REJECTED_GITLEAKS_RULES) assert.ok(readme.includes(r.id), `README lists ${r.id}`);
  });

  test('finds the credentials of the issue, and the redaction never shows more than 4 characters', () => {
    const samples: [string, string][] = [
      [`token = "${GHP}"`, 'github-pat'],
      [`aws_access_key_id=${AWS_ID}\naws_secret_access_key = ${AWS_SECRET}\n`, 'aws-access-key-id'],
      [`aws_secret_access_key = ${AWS_SECRET}\n`, 'aws-secret-access-key'],
      [`GITLAB=${'glpat'}-${'x7Kq2LmN9pR4sT6vW8yZ'}\n`, 'gitlab-pat'],
      [`//registry.npmjs.org/:_authToken=${'npm'}_${'a8Kq2LmN9pR4sT6vW8yZb3Cd5Ef7Gh9Jk1Mn'}\n`, 'npm-access-token'],
      [`DATABASE_URL=postgres://app:${'S3cr3t-Pa55'}@db.internal:5432/app\n`, 'database-url-password'],
      [`url: mongodb+srv://root:${'Xk29vLq'}@cluster0.example.net/db\n`, 'database-url-password'],
      [
        `SLACK=https://hooks.slack.com/services/${'T0A1B2C3D/B4E5F6G7H/abcdEFGHijklMNOPqrstUVWX'}0123456789abcdefghi\n`,
        'slack-webhook-url',
      ],
      [`"private_key_id": "${'3f2a9c1d7e5b4a60918f2c3d4e5f6a7b8c9d0e1f'}",\n`, 'gcp-service-account-key'],
      [
        `DefaultEndpointsProtocol=https;AccountName=x;AccountKey=${'a'.repeat(43)}${'B'.repeat(43)}==;\n`,
        'azure-storage-account-key',
      ],
      [`JWT_SECRET=${'q8Vn2Lx7Rk4Tz9Wm3Pb6'}\n`, 'jwt-signing-secret'],
      [
        `-----BEGIN RSA PRIVATE KEY-----\n${'MIIEpAIBAAKCAQEAx7Vq3Lm9Kp2Rt5Wz8Yb1Nc4Df6Gh0Jk'.repeat(3)}\n-----END RSA PRIVATE KEY-----\n`,
        'private-key',
      ],
      [
        `-----BEGIN OPENSSH PRIVATE KEY-----\n${'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ'.repeat(3)}\n-----END OPENSSH PRIVATE KEY-----\n`,
        'private-key',
      ],
    ];
    for (const [text, id] of samples) {
      const found = scan(text);
      assert.ok(
        found.some((m) => m.rule === id),
        `${id} in ${JSON.stringify(text.slice(0, 40))}: ${JSON.stringify(found)}`,
      );
      for (const m of found) assert.match(m.redacted, /^.{0,4}…\(\d+\)$/);
    }
    assert.equal(redact(GHP), 'ghp_…(40)');
  });

  test('placeholders, documented examples and known public test keys are not findings', () => {
    assert.deepEqual(ruleIds(`DATABASE_URL=postgres://app:\${DB_PASSWORD}@db:5432/app\n`), []);
    assert.deepEqual(ruleIds(`DATABASE_URL=postgres://app:password@db:5432/app\n`), []);
    assert.deepEqual(ruleIds(`aws_access_key_id=${'AKIAIOSFODNN7'}${'EXAMPLE'}\n`), []);
    // Go's crypto/tls ExampleX509KeyPair key, shipped in every Go toolchain's sources.
    const goExample = [
      '-----BEGIN EC PRIVATE KEY-----',
      'MHcCAQEEIIrYSSNQFaA2Hwf1duRSxKtLYX5CB04fSeQ6tF1aY/PuoAoGCCqGSM49',
      'AwEHoUQDQgAEPR3tU2Fta9ktY+6P9G0cWO+0kETA6SFs38GecTyudlHz6xvCdz8q',
      'EKTcWGekdmdDPsHloRNtsiCa697B2O9IFA==',
      '-----END EC PRIVATE KEY-----',
    ].join('\n');
    assert.deepEqual(ruleIds(goExample), []);
  });

  test('a PEM body is the same key with real or escaped line breaks (a JSON service-account file)', () => {
    const body = ['MIIEpAIBAAKCAQEAx7Vq3Lm9Kp2Rt5Wz8Yb1Nc4Df6Gh0Jk', 'Lm9Kp2Rt5Wz8Yb1Nc4Df6Gh0JkMIIEpAIBAAKCAQEAx7Vq3'];
    const pem = `-----BEGIN PRIVATE KEY-----\n${body.join('\n')}\n-----END PRIVATE KEY-----\n`;
    const json = `{"private_key": "-----BEGIN PRIVATE KEY-----\\n${body.join('\\n')}\\n-----END PRIVATE KEY-----\\n"}`;
    const [a] = scan(pem, '/k');
    const [b] = scan(json, '/k');
    assert.equal(a?.redacted, 'MIIE…(94)');
    assert.equal(b?.redacted, a?.redacted);
    assert.equal(b?.fingerprint, a?.fingerprint);
  });

  test('line numbers and the fingerprint (rule, path, secret) are stable', () => {
    const [m] = scan(`a\nb\n\nkey: ${GHP}\n`, '/etc/app.yaml');
    assert.equal(m?.line, 4);
    assert.equal(m?.fingerprint, secretFingerprint('github-pat', '/etc/app.yaml', GHP));
    assert.equal(m?.fingerprint.length, 32);
  });

  test('a secret straddling two scan windows is found once, on its line', () => {
    const filler = `${'x'.repeat(99)}\n`.repeat(Math.ceil((1 << 20) / 100));
    const text = `${filler.slice(0, (1 << 20) - 20)}\ntoken=${GHP}\n${filler}`;
    const found = scan(text);
    assert.equal(found.length, 1);
    const expectedLine = text.slice(0, text.indexOf(GHP)).split('\n').length;
    assert.equal(found[0]?.line, expectedLine);
    assert.ok(OVERLAP > 40);
  });

  test('binary files (a NUL in the first bytes) are not scanned', () => {
    assert.deepEqual(scan(`\0ELF token=${GHP}`), []);
  });

  test('package test fixtures are recognised, an application test directory is not', () => {
    assert.equal(isPackageFixture('/usr/lib/node_modules/tunnel/test/keys/agent1-key.pem'), true);
    assert.equal(isPackageFixture('/usr/lib/python3/dist-packages/boto3/tests/unit/data.json'), true);
    assert.equal(isPackageFixture('/usr/lib/go-1.22/src/crypto/tls/testdata/example-key.pem'), true);
    assert.equal(isPackageFixture('/opt/sdk/third_party/requests/tests/certs/server.key'), true);
    assert.equal(isPackageFixture('/opt/sdk/vendored/boto/tests/unit/test_signed_urls.py'), true);
    assert.equal(isPackageFixture('/app/test/secret.env'), false);
    assert.equal(isPackageFixture('/app/node_modules/x/lib/config.js'), false);
  });

  test('no rule backtracks badly: each runs on 1 MB hostile lines in bounded time', () => {
    const MB = 1 << 20;
    for (const c of rules.rules) {
      const k = c.rule.keywords[0] as string;
      const hostile = [
        k.repeat(Math.ceil(MB / k.length)),
        `${k}${'A'.repeat(MB)}`,
        `${k}=${'a'.repeat(MB)}`,
        `${k}://u:${'p'.repeat(MB)}`,
        `-----BEGIN PRIVATE KEY-----${'A'.repeat(MB)}`,
        `${`${k} ${'eyJ'}${'a'.repeat(20)}.`.repeat(MB / 32)}`,
      ];
      for (const line of hostile) {
        const start = performance.now();
        c.regex.lastIndex = 0;
        while (c.regex.exec(line) !== null) {
          if (performance.now() - start > 3000) break;
        }
        const ms = performance.now() - start;
        assert.ok(ms < 2000, `${c.rule.id} took ${Math.round(ms)} ms on ${JSON.stringify(line.slice(0, 30))}…`);
      }
    }
  });
});

describe('secret candidates', () => {
  const meta = { size: 100, mode: 0o644, type: 'file' as const };
  test('package-manager-only trees and runtime standard libraries are skipped; what pip or an app writes is not', () => {
    for (const path of [
      '/usr/lib/python3/dist-packages/jwt/api_jwt.py',
      '/usr/lib/python3.11/test/keycert.pem',
      '/usr/local/lib/python3.12/test/certdata/keycert.pem',
      '/usr/share/perl/5.36/Net/SMTP.pm',
      '/usr/lib/x86_64-linux-gnu/perl5/5.36/Foo.pm',
      '/usr/lib/node_modules/npm/lib/utils/config.js',
      '/usr/local/lib/node_modules/npm/lib/utils/config.js',
      '/usr/share/doc/libxmlsec1-dev/examples/rsakey.pem',
      '/usr/lib/go-1.22/src/crypto/tls/example_test.go',
      '/app/logo.png',
    ]) {
      assert.equal(isSecretCandidate(path, meta, 1 << 20), false, path);
    }
    for (const path of [
      '/usr/local/lib/python3.12/site-packages/app/settings.py',
      '/usr/local/lib/python3.11/dist-packages/app/settings.py',
      '/usr/local/lib/node_modules/my-cli/config.js',
      '/app/.env',
      '/root/.aws/credentials',
      '/etc/app/config.yaml',
    ]) {
      assert.equal(isSecretCandidate(path, meta, 1 << 20), true, path);
    }
    assert.equal(isSecretCandidate('/app/.env', { ...meta, size: 2 << 20 }, 1 << 20), false, 'over the cap');
  });
});
