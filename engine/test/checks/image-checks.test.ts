// The image checks (IMG-001…), each on an image built with umoci that fails it alone, and a clean image that fails
// none: a non-root user, a HEALTHCHECK, a version tag, no shell and no package manager.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { loadPolicy } from '../../src/policy/policy-file.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { DEFAULT_RENDER_OPTIONS } from '../../src/report/render-options.js';
import { renderSarif } from '../../src/report/sarif.js';
import { renderTable } from '../../src/report/table.js';
import { assess } from '../../src/scan/assess.js';
import { inventoryOf, scan } from '../../src/scan/scan.js';
import { readOfficialSchema } from '../helpers/official-schemas.js';
import { assertValidReport } from '../helpers/report-schema.js';
import { tempDir } from '../helpers/tmp.js';
import { type UmociImageInput, umociImage } from '../helpers/umoci-images.js';

const NOW = new Date('2026-12-01T00:00:00Z');

/** An application tree with no problem in it (an executable that is not ELF, so the binary cataloger drops it). */
const APP = { '/app/server': { content: '#!/app/runtime\n', mode: 0o755 }, '/app/config.json': '{}' };

async function checksOf(t: Parameters<typeof tempDir>[0], input: UmociImageInput, checks = true) {
  const dir = await tempDir(t);
  const spec = await umociImage(dir, { ...input, files: { ...APP, ...input.files } });
  const report = await scan(spec, { sbomOnly: true, dbDir: dir, now: NOW, checks });
  return report;
}

/** An image's account databases defining `app` (user and group), with a password hash that must not be kept. */
const ACCOUNTS = {
  '/etc/passwd': 'root:x:0:0:root:/root:/sbin/nologin\napp:$6$salt$hash:1000:1000::/home/app:/sbin/nologin\n',
  '/etc/group': 'root:x:0:\napp:x:1000:\n',
};

const ids = (report: Awaited<ReturnType<typeof checksOf>>) => (report.misconfigurations ?? []).map((m) => m.id);

describe('image checks', () => {
  test('a clean image fails none and its report has no misconfigurations field', async (t) => {
    const report = await checksOf(t, {});
    assert.equal('misconfigurations' in report, false);
    assert.deepEqual(report.warnings, []);
    // A user by name, defined in the image; the password hash never reaches the inventory.
    const named = await checksOf(t, { user: 'app:app', files: ACCOUNTS });
    assert.equal('misconfigurations' in named, false);
  });

  const cases: { id: string; input: UmociImageInput; evidence: string[] }[] = [
    { id: 'IMG-001', input: { user: '' }, evidence: ['no USER: runs as root'] },
    { id: 'IMG-001', input: { user: '0:1000' }, evidence: ['USER 0:1000'] },
    { id: 'IMG-002', input: { user: 'app' }, evidence: ['USER app: user app is not in /etc/passwd (absent)'] },
    {
      id: 'IMG-002',
      input: { user: 'app:staff', files: ACCOUNTS },
      evidence: ['USER app:staff: group staff is not in /etc/group'],
    },
    // A shell script, not ELF: the binary cataloger condenses it to nothing, the checks still see it.
    {
      id: 'IMG-003',
      input: { files: { '/bin/sh': { content: '#!x\n', mode: 0o755 } } },
      evidence: ['/bin/sh (shell, mode 0755)'],
    },
    {
      id: 'IMG-004',
      input: { files: { '/usr/bin/apt-get': { content: 'x', mode: 0o755 } } },
      evidence: ['/usr/bin/apt-get (package manager, mode 0755)'],
    },
    {
      id: 'IMG-005',
      input: { files: { '/usr/local/bin/helper': { content: 'x', mode: 0o4755 } } },
      evidence: ['/usr/local/bin/helper (setuid, mode 4755)'],
    },
    {
      id: 'IMG-006',
      // The same mode under /tmp is not reported.
      input: {
        files: { '/app/state.db': { content: 'x', mode: 0o666 }, '/tmp/scratch': { content: 'x', mode: 0o666 } },
      },
      evidence: ['/app/state.db (world-writable, mode 0666)'],
    },
    {
      id: 'IMG-007',
      input: { env: ['PATH=/usr/bin', 'DB_PASSWORD=hunter2-hunter2', 'PASSWORD_FILE=/run/secrets/db'] },
      evidence: ['env DB_PASSWORD: name DB_PASSWORD = hunt… (sha256:'],
    },
    {
      id: 'IMG-007',
      input: { labels: { 'ci.token': 'ghp_0123456789abcdefghijABCDEFGHIJ012345' } },
      evidence: ['label ci.token: github-token = ghp_… (sha256:'],
    },
    {
      id: 'IMG-008',
      input: { createdBy: 'ADD https://example.com/app.tgz /app/' },
      evidence: ['history step 2: ADD from https://example.com/app.tgz'],
    },
    { id: 'IMG-009', input: { healthcheck: false }, evidence: ['no HEALTHCHECK'] },
    {
      id: 'IMG-010',
      input: { files: { '/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease': 'x' } },
      evidence: ['/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease (cache, mode 0644)'],
    },
    { id: 'IMG-011', input: { tag: 'latest' }, evidence: ['tagged latest'] },
    { id: 'IMG-011', input: { tag: null }, evidence: ['no tag'] },
    {
      id: 'IMG-012',
      input: {
        files: { '/etc/os-release': 'ID=debian\nVERSION_ID="10"\nPRETTY_NAME="Debian GNU/Linux 10 (buster)"\n' },
      },
      evidence: ['Debian GNU/Linux 10 (buster): end of life 2024-06-30'],
    },
  ];
  for (const c of cases) {
    test(`${c.id} fires once: ${c.evidence[0]}`, async (t) => {
      const report = await checksOf(t, c.input);
      assert.deepEqual(ids(report), [c.id]);
      const [m] = report.misconfigurations ?? [];
      assert.deepEqual(
        m?.evidence.map((e) => e.message.slice(0, c.evidence[0]?.length)),
        c.evidence,
      );
      assert.ok(m?.title && m.description && m.remediation && m.severity);
      if (m?.evidence[0]?.path) assert.match(m.evidence[0].layer ?? '', /^sha256:[a-f0-9]{64}$/);
    });
  }

  test('a secret value is never in the report in full', async (t) => {
    const report = await checksOf(t, { env: ['API_TOKEN=s3cr3t-value-that-must-not-leak'] });
    const json = JSON.stringify(report.misconfigurations);
    assert.ok(json.includes('API_TOKEN'));
    assert.ok(!json.includes('s3cr3t-value-that-must-not-leak'));
    assert.ok(!json.includes('value-that'));
  });

  test('with checks off the walk notes nothing and the report has no misconfigurations', async (t) => {
    const report = await checksOf(t, { user: '', files: { '/bin/sh': { content: '#!x\n', mode: 0o755 } } }, false);
    assert.equal('misconfigurations' in report, false);
    assert.deepEqual(report.packages, []);
  });
});

describe('image checks in the outputs', () => {
  test('JSON (schema-valid), SARIF (schema-valid, LADING-IMG rules), table and markdown carry them', async (t) => {
    const dir = await tempDir(t);
    const spec = await umociImage(dir, {
      user: '',
      files: { ...APP, '/usr/bin/su': { content: 'x', mode: 0o4755 } },
    });
    const report = await scan(spec, { sbomOnly: true, dbDir: dir, now: NOW });
    assert.deepEqual(ids(report), ['IMG-001', 'IMG-005']);
    assertValidReport(report);

    const sarif = JSON.parse(renderSarif(report, DEFAULT_RENDER_OPTIONS));
    const ajv = new AjvDraft04.default({ strict: false, allErrors: true });
    addFormats.default(ajv);
    const validate = ajv.compile<typeof sarif>(readOfficialSchema('sarif-2.1.0.schema.json'));
    const valid = validate(sarif);
    assert.ok(valid, JSON.stringify(validate.errors?.slice(0, 3)));
    const run = sarif.runs[0];
    assert.deepEqual(
      run.tool.driver.rules.map((r: { id: string }) => r.id),
      ['LADING-IMG-001', 'LADING-IMG-005'],
    );
    assert.deepEqual(
      run.results.map(
        (r: { ruleId: string; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }) => [
          r.ruleId,
          r.locations[0]?.physicalLocation.artifactLocation.uri,
        ],
      ),
      [
        ['LADING-IMG-001', spec],
        ['LADING-IMG-005', 'usr/bin/su'],
      ],
    );

    const table = renderTable(report, DEFAULT_RENDER_OPTIONS);
    assert.match(table, /2 image checks failed\n\nCHECK +SEVERITY +TITLE +EVIDENCE\n/);
    assert.match(table, /IMG-005 +MEDIUM +Setuid or setgid files +\/usr\/bin\/su \(setuid, mode 4755\)/);
    const md = renderMarkdown(report, DEFAULT_RENDER_OPTIONS);
    assert.match(md, /#### Image checks\n\n\| severity \| check \| title \| evidence \|/);
    assert.match(md, /\| 🟧 HIGH \| IMG-001 \| Runs as root \| no USER: runs as root \|/);
  });
});

describe('image checks in policy gates', () => {
  test('a misconfigurations rule fails on matching checks, by id and severity, and passes otherwise', async (t) => {
    const dir = await tempDir(t);
    const spec = await umociImage(dir, { user: '', healthcheck: false });
    const report = await scan(spec, { sbomOnly: true, dbDir: dir, now: NOW });
    assert.deepEqual(ids(report), ['IMG-001', 'IMG-009']);
    const policyFile = join(dir, 'policy.yaml');
    const verdict = async (rule: string) => {
      await writeFile(
        policyFile,
        `version: 1\nrules:\n  - id: hardening\n    type: misconfigurations\n    action: fail\n${rule}`,
      );
      return assess(report, { policy: await loadPolicy(policyFile), now: NOW });
    };
    const any = await verdict('');
    assert.equal(any.gate?.pass, false);
    assert.deepEqual(
      any.policy?.violations.map((v) => v.message),
      ['IMG-001 Runs as root (HIGH): no USER: runs as root', 'IMG-009 No HEALTHCHECK (LOW): no HEALTHCHECK'],
    );
    assert.deepEqual((await verdict('    severity: high\n')).policy?.violations.length, 1);
    assert.equal((await verdict('    ids: [IMG-005, IMG-007]\n')).gate?.pass, true);
    assert.equal((await verdict('    max: 2\n')).gate?.pass, true);
    await assert.rejects(verdict('    ids: [CVE-2024-1]\n'), /policy/);
  });

  test('the example policy (docs/policy.example.yaml) loads, with its misconfigurations rule', async () => {
    const policy = await loadPolicy(new URL('../../../docs/policy.example.yaml', import.meta.url).pathname);
    assert.ok(policy.rules.some((r) => r.type === 'misconfigurations' && r.severity === 'MEDIUM'));
  });
});

describe('image checks and the result cache', () => {
  test('a cached catalog keeps the noted files: the second scan walks nothing and fails the same checks', async (t) => {
    const dir = await tempDir(t);
    const spec = await umociImage(dir, { files: { ...APP, '/usr/bin/su': { content: 'x', mode: 0o4755 } } });
    const cache = { dir: join(dir, 'cache') };
    const phases: string[] = [];
    const options = {
      sbomOnly: true,
      dbDir: dir,
      now: NOW,
      cache,
      onProgress: (p: { phase: string }) => phases.push(p.phase),
    };
    const first = await scan(spec, options);
    assert.ok(!phases.includes('cached'));
    phases.length = 0;
    const second = await scan(spec, options);
    assert.ok(phases.includes('cached') && !phases.includes('reading'), phases.join(','));
    assert.deepEqual(ids(second), ['IMG-005']);
    assert.deepEqual(second.misconfigurations, first.misconfigurations);
    // Checks off is another catalog (another key): it walks again and notes nothing.
    phases.length = 0;
    const off = await scan(spec, { ...options, checks: false });
    assert.ok(!phases.includes('cached'));
    assert.equal('misconfigurations' in off, false);
  });
});

describe('image accounts', () => {
  test('only the names of /etc/passwd and /etc/group reach the inventory', async (t) => {
    const dir = await tempDir(t);
    const spec = await umociImage(dir, { user: 'app', files: { ...APP, ...ACCOUNTS } });
    const { inventory } = await inventoryOf(spec, {});
    assert.deepEqual(inventory.accounts, { users: ['app', 'root'], groups: ['app', 'root'] });
    assert.ok(!JSON.stringify(inventory).includes('$6$'));
  });
});
