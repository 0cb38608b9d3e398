// `lading trace` end to end: the study over a real slice of the public dataset (JSON valid against the shipped
// schema, markdown, SVG charts), one image stream over reports, and hostile dataset files (exit 3, one line).
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { runCli } from '../../engine/test/helpers/cli.js';
import { finding, pkg, report } from '../../engine/test/helpers/reports.js';
import { tempDir } from '../../engine/test/helpers/tmp.js';

const SLICE = new URL('../../engine/test/fixtures/trace/jessie-slice/', import.meta.url).pathname;
const FILES = [
  'images.jsonl.gz',
  'debian-advisories.jsonl.gz',
  'ubuntu-uct-fixes.jsonl.gz',
  'cve-metadata-uct.jsonl.gz',
];

async function schemaValidator() {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const text = await readFile(new URL('../../engine/schemas/trace.schema.json', import.meta.url), 'utf8');
  return ajv.compile(JSON.parse(text));
}

async function copySlice(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const name of FILES) await copyFile(join(SLICE, name), join(dir, name));
}

describe('lading trace study', () => {
  it('writes JSON valid against the schema, markdown and the SVG charts', async (t) => {
    const dir = await tempDir(t);
    const json = join(dir, 'study.json');
    const charts = join(dir, 'charts');
    const result = await runCli([
      'trace',
      'study',
      SLICE,
      '-o',
      `json=${json}`,
      '-o',
      'markdown',
      '--charts',
      charts,
      '--episodes',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /\| debian:jessie \| Debian 8 \(jessie\) \| 16 \| 6\.9 \|/);
    const study: { episodes: unknown[] } = JSON.parse(await readFile(json, 'utf8'));
    const validate = await schemaValidator();
    assert.ok(validate(study), JSON.stringify(validate.errors));
    assert.equal(study.episodes.length, 12);
    const svgs = (await readdir(charts)).sort();
    assert.deepEqual(svgs, ['base-lag.svg', 'distro-fix-latency.svg', 'image-remediation-latency.svg']);
    const svg = await readFile(join(charts, 'image-remediation-latency.svg'), 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*role="img"/);
    assert.match(svg, /debian:jessie/);
  });

  it('refuses hostile dataset files with one line and exit 3', async (t) => {
    const cases: [string, (bytes: Buffer) => Buffer, RegExp][] = [
      ['truncated gzip', (b) => b.subarray(0, Math.floor(b.length / 2)), /images\.jsonl\.gz: corrupt gzip data/],
      ['a line that is not JSON', () => gzipSync('{"image":"debian"\n'), /images\.jsonl\.gz:1: not JSON/],
      [
        'a field of the wrong type',
        () => gzipSync(`${JSON.stringify({ image: 'debian', tag: 5 })}\n`),
        /images\.jsonl\.gz:1: field "os" must be an object|field "tag" must be a non-empty string/,
      ],
      [
        'one endless line',
        () => gzipSync(Buffer.alloc(5 * 1024 * 1024, 0x20)),
        /images\.jsonl\.gz:1: line longer than/,
      ],
    ];
    for (const [name, mutate, expected] of cases) {
      const dir = join(await tempDir(t), 'data');
      await copySlice(dir);
      await writeFile(join(dir, 'images.jsonl.gz'), mutate(await readFile(join(SLICE, 'images.jsonl.gz'))));
      const result = await runCli(['trace', 'study', dir]);
      assert.equal(result.code, 3, `${name}: ${result.stderr}`);
      assert.match(result.stderr, expected, name);
      assert.equal(result.stderr.trim().split('\n').length, 1, `${name}: ${result.stderr}`);
      assert.doesNotMatch(result.stderr, /\n\s+at /, name);
    }
  });

  it('answers usage errors with exit 2 and a missing dataset with exit 3', async (t) => {
    const bad = await runCli(['trace', 'study', SLICE, '--from', '2017-02-30']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--from 2017-02-30: expected a day/);
    const missing = await runCli(['trace', 'study', join(await tempDir(t), 'nope')]);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /no such file or directory/);
  });
});

describe('lading trace image and base', () => {
  it('traces one stream over reports: an episode closed in build 2, reopened in build 3', async (t) => {
    const dir = await tempDir(t);
    const old = pkg('deb', 'openssl', '3.0.11-1~deb12u1');
    const fixed = pkg('deb', 'openssl', '3.0.11-1~deb12u2');
    const files = [
      [
        'b1.json',
        report('ghcr.io/acme/api:1', [old], [finding(old, 'CVE-2023-5678', 'MEDIUM')]),
        '2026-01-01T00:00:00Z',
      ],
      ['b2.json', report('ghcr.io/acme/api:2', [fixed], []), '2026-01-04T12:00:00Z'],
      [
        'b3.json',
        report('ghcr.io/acme/api:3', [old], [finding(old, 'CVE-2023-5678', 'MEDIUM')]),
        '2026-01-10T00:00:00Z',
      ],
    ] as const;
    const paths: string[] = [];
    for (const [name, r, createdAt] of files) {
      const path = join(dir, name);
      await writeFile(path, JSON.stringify({ ...r, createdAt, os: { family: 'debian', version: '12' } }));
      paths.push(path);
    }
    const json = join(dir, 'trace.json');
    const result = await runCli(['trace', 'image', ...paths.reverse(), '-o', `json=${json}`, '-o', 'markdown']);
    assert.equal(result.code, 0, result.stderr);
    const trace: { regressions: number; bySeverity: Record<string, { eventsOnlyMedianDays: number }> } = JSON.parse(
      await readFile(json, 'utf8'),
    );
    const validate = await schemaValidator();
    assert.ok(validate(trace), JSON.stringify(validate.errors));
    assert.equal(trace.regressions, 1);
    assert.equal(trace.bySeverity['MEDIUM']?.eventsOnlyMedianDays, 3.5);
    assert.match(result.stdout, /\| MEDIUM \| 3\.5 \|/);

    const base = await runCli(['trace', 'base', ...paths, '-o', 'json']);
    assert.equal(base.code, 0, base.stderr);
    assert.deepEqual(JSON.parse(base.stdout).shares, [{ os: 'debian 12', images: 3, share: 100 }]);
  });
});
