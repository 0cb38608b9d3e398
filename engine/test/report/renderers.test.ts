import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import AjvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import type { Finding } from '../../src/model/finding.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { GITHUB_COMMENT_LIMIT } from '../../src/report/markdown-limit.js';
import { DEFAULT_RENDER_OPTIONS } from '../../src/report/render-options.js';
import { renderSarif } from '../../src/report/sarif.js';
import { renderTable } from '../../src/report/table.js';
import { readOfficialSchema } from '../helpers/official-schemas.js';
import { finding, pkg, report } from '../helpers/reports.js';

const opts = DEFAULT_RENDER_OPTIONS;
const libc = pkg('deb', 'libc6', '2.36-9+deb12u1', {
  locations: [{ path: '/var/lib/dpkg/status', layer: 'sha256:aa' }],
});
const lodash = pkg('npm', 'lodash', '4.17.20', {
  purl: 'pkg:npm/lodash@4.17.20',
  locations: [{ path: '/app/node_modules/lodash/package.json', layer: 'sha256:bb' }],
});
const findings: Finding[] = [
  finding(lodash, 'CVE-2021-23337', 'HIGH', {
    aliases: ['GHSA-35jh-r3h4-6jhm'],
    fixedVersions: ['4.17.21'],
    title: 'Command Injection in lodash',
    cvss: [{ version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H', score: 7.2, source: 'ghsa' }],
    advisory: { id: 'GHSA-35jh-r3h4-6jhm', source: 'osv', url: 'https://osv.dev/vulnerability/GHSA-35jh-r3h4-6jhm' },
  }),
  finding(libc, 'CVE-2023-4911', 'HIGH', {
    fixedVersions: ['2.36-9+deb12u3'],
    kev: true,
    title: 'Looney Tunables <&> "x"',
  }),
  finding(libc, 'CVE-2010-4756', 'LOW', { status: 'will-not-fix' }),
];
const r = report('registry.example.com/app:1.0', [libc, lodash], findings);

describe('table', () => {
  it('groups findings by package, most severe first', () => {
    const out = renderTable(r, opts);
    assert.match(out, /2 packages, 3 vulnerabilities \(critical: 0, high: 2, medium: 0, low: 1, unknown: 0\)/);
    const lines = out.split('\n');
    const libcLine = lines.findIndex((l) => l.startsWith('libc6@2.36-9+deb12u1'));
    assert.ok(libcLine > 0);
    assert.match(lines[libcLine]!, /CVE-2023-4911\s+HIGH\s+2\.36-9\+deb12u3\s+KEV/);
    assert.match(lines[libcLine + 1]!, /^\s+CVE-2010-4756\s+LOW\s+won't fix/);
    assert.doesNotMatch(out, /\x1b\[/, 'no colour unless asked');
    assert.match(renderTable(r, { ...opts, color: true }), /\x1b\[31mHIGH\x1b\[0m/);
  });

  it('summary view: one line per vulnerable package with its counts by severity and how many are fixable', () => {
    const out = renderTable(r, { ...opts, summary: true });
    const lines = out.split('\n');
    assert.match(lines[1]!, /^2 packages, 3 vulnerabilities /, 'the same summary line first');
    assert.match(lines[3]!, /^PACKAGE\s+WORST\s+VULNERABILITIES\s+FIXABLE$/);
    const rows = lines.slice(5, 7);
    assert.deepEqual(
      rows.map((l) => l.split(/\s{2,}/)),
      [
        ['libc6@2.36-9+deb12u1 (deb)', 'HIGH', '1 high, 1 low', '1 of 2'],
        ['lodash@4.17.20 (npm)', 'HIGH', '1 high', '1 of 1'],
      ].sort((a, b) => out.indexOf(a[0]!) - out.indexOf(b[0]!)),
    );
    assert.match(out, /\n2 packages with vulnerabilities; the full table lists each finding\.\n/);
    assert.doesNotMatch(out, /CVE-/, 'no finding lines');
    assert.equal(renderTable(r, opts).includes('CVE-2010-4756'), true, 'the default stays the full table');
  });

  it('says in its summary line how many findings have a fix, before the table', () => {
    const out = renderTable(r, opts);
    const summary = out.split('\n')[1]!;
    assert.match(
      summary,
      /\), 2 fixable$/,
      'lodash and the KEV libc finding have fixed versions; the LOW one has none',
    );
    const noFindings = renderTable(report('registry.example.com/app:1.0', [libc], []), opts);
    assert.doesNotMatch(noFindings, /fixable/);
  });
});

describe('table words', () => {
  it('has a TITLE column with the advisory summary, cut to fit the width; NOTES only when a finding has a note', () => {
    const out = renderTable(r, opts);
    const header = out.split('\n')[3]!;
    assert.match(header, /^PACKAGE\s+VULNERABILITY\s+SEVERITY\s+FIXED IN\s+NOTES\s+TITLE$/);
    assert.match(out, /CVE-2021-23337\s+HIGH\s+4\.17\.21\s+Command Injection in lodash/);
    assert.match(out, /CVE-2023-4911\s+HIGH\s+2\.36-9\+deb12u3\s+KEV\s+Looney Tunables/);
    const long = finding(lodash, 'CVE-2099-1', 'LOW', { title: 'x'.repeat(200) });
    const plain = renderTable(report('registry.example.com/app:1.0', [lodash], [long]), { ...opts, width: 80 });
    assert.match(plain.split('\n')[3]!, /^PACKAGE\s+VULNERABILITY\s+SEVERITY\s+FIXED IN\s+TITLE$/);
    const rows = plain.split('\n').slice(3);
    for (const line of rows) assert.ok(line.length <= 80, `${line.length}: ${line}`);
    assert.match(plain, /x…/);
  });

  it('agrees counts with their nouns: 1 package, 1 vulnerability', () => {
    const one = report('registry.example.com/app:1.0', [lodash], [findings[0]!]);
    assert.match(renderTable(one, opts), /^1 package, 1 vulnerability \(/m);
    assert.match(renderMarkdown(one, opts), /1 vulnerability found/);
    assert.match(
      renderTable(report('registry.example.com/app:1.0', [lodash], [], { db: undefined }), opts),
      /^1 package$/m,
    );
  });

  it('says "end of life" or "end of life unknown" next to the OS', () => {
    const eol = report('registry.example.com/app:1.0', [libc], [], {
      os: { family: 'debian', version: '9', eolDate: '2022-06-30', eol: true, eolStatus: 'end-of-life' },
    });
    assert.match(renderTable(eol, opts).split('\n')[0]!, /\(debian 9, end of life\)$/);
    assert.match(renderMarkdown(eol, opts), /OS: debian 9 \(\*\*end of life\*\*\)/);
    const unknown = report('registry.example.com/app:1.0', [libc], [], {
      os: { family: 'debian', version: '99', eolStatus: 'unknown' },
    });
    assert.match(renderTable(unknown, opts).split('\n')[0]!, /\(debian 99, end of life unknown\)$/);
    assert.match(renderMarkdown(unknown, opts), /OS: debian 99 \(\*\*end of life unknown\*\*\)/);
    const fine = report('registry.example.com/app:1.0', [libc], [], {
      os: { family: 'debian', version: '12', eolDate: '2028-06-30', eol: false, eolStatus: 'supported' },
    });
    assert.match(renderTable(fine, opts).split('\n')[0]!, /\(debian 12\)$/);
  });
});

describe('sarif', () => {
  it('is valid SARIF 2.1.0 with one rule per vulnerability and GitHub properties', () => {
    const sarif = JSON.parse(renderSarif(r, opts));
    const ajv = new AjvDraft04.default({ strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile<typeof sarif>(readOfficialSchema('sarif-2.1.0.schema.json'));
    assert.ok(validate(sarif), JSON.stringify(validate.errors?.slice(0, 3)));
    const run = sarif.runs[0];
    assert.deepEqual(
      run.tool.driver.rules.map((x: { id: string }) => x.id),
      ['CVE-2021-23337', 'CVE-2023-4911', 'CVE-2010-4756'],
    );
    assert.equal(run.tool.driver.rules[0].properties['security-severity'], '7.2');
    const res = run.results[0];
    assert.equal(res.level, 'error');
    assert.equal(res.locations[0].physicalLocation.artifactLocation.uri, 'app/node_modules/lodash/package.json');
    assert.equal(res.locations[0].physicalLocation.region.startLine, 1);
    assert.equal(run.results[2].level, 'note');
  });
});

describe('junit', () => {
  it('is well-formed XML with one failure per finding (checked by Python ElementTree)', () => {
    const xml = renderJunit(r, opts);
    const py = spawnSync(
      'python3',
      [
        '-c',
        'import sys,xml.etree.ElementTree as E; t=E.fromstring(sys.stdin.read()); print(t.get("tests"), t.get("failures"), len(t.findall(".//failure")))',
      ],
      { input: xml, encoding: 'utf8' },
    );
    assert.equal(py.status, 0, py.stderr);
    assert.equal(py.stdout.trim(), '3 3 3');
    assert.match(xml, /Looney Tunables &lt;&amp;&gt; "x"/);
  });
});

describe('markdown', () => {
  it('puts the verdict first and collapses the lesser findings', () => {
    const md = renderMarkdown(r, opts);
    assert.match(md.split('\n')[2]!, /3 vulnerabilities found/);
    assert.match(md, /#### Critical and high[\s\S]*CVE-2021-23337[\s\S]*<details><summary>1 medium, low and unrated/);
  });

  it('stays under GitHub comment size with thousands of findings', () => {
    const many = Array.from({ length: 5000 }, (_, i) =>
      finding(lodash, `CVE-2099-${String(i).padStart(5, '0')}`, i % 2 ? 'HIGH' : 'LOW', { fixedVersions: ['4.17.21'] }),
    );
    const md = renderMarkdown(report('x', [lodash], many), opts);
    assert.ok(md.length <= GITHUB_COMMENT_LIMIT, `${md.length}`);
    assert.match(md, /more rows? left out to stay under GitHub's comment size limit/);
    assert.equal(md.split('<details>').length, md.split('</details>').length, 'collapsible blocks stay closed');
  });
});

describe('gate verdicts', () => {
  it('markdown and table say a --fail-on or baseline failure first', () => {
    const gated = { ...r, gate: { pass: false, reasons: ['2 findings at or above high', 'baseline: x'], notes: [] } };
    const md = renderMarkdown(gated, opts);
    assert.equal(md.split('\n')[2], '❌ **Gate failed**: 2 findings at or above high (and 1 more)');
    assert.match(renderTable(gated, opts), /Gate: FAIL\n {2}2 findings at or above high\n {2}baseline: x/);
    const passed = { ...r, gate: { pass: true, reasons: [], notes: ['baseline: stayed'] } };
    assert.equal(renderMarkdown(passed, opts).split('\n')[2], '✅ **Gate passed**');
  });
});
