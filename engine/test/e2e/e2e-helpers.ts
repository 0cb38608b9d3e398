import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Finding } from '../../src/model/finding.js';
import type { Report } from '../../src/model/report.js';
import { type CliResult, runCli } from '../helpers/cli.js';
import { assertValidReport } from '../helpers/report-schema.js';

const FIXTURES = new URL('../fixtures/e2e/', import.meta.url).pathname;

export const ROOTFS = {
  debian12: `${FIXTURES}rootfs/debian12`,
  alpineA: `${FIXTURES}rootfs/alpine-a`,
  alpineB: `${FIXTURES}rootfs/alpine-b`,
} as const;
export const OSV_DIR = `${FIXTURES}osv`;
export const E2E_FIXTURES = FIXTURES;

/** Runs `lading ARGS` and fails the test with both streams when the exit code is not the expected one. */
export async function lading(args: string[], expectedCode = 0, env?: NodeJS.ProcessEnv): Promise<CliResult> {
  const r = await runCli(args, env ? { env } : {});
  assert.equal(
    r.code,
    expectedCode,
    `lading ${args.join(' ')} → ${r.code}\nstdout: ${r.stdout.slice(0, 2000)}\nstderr: ${r.stderr}`,
  );
  return r;
}

/**
 * A fresh database folder holding the real OSV records of test/fixtures/e2e/osv, imported through the CLI. Made in
 * a suite's `before` hook, so the suite removes it in its `after` hook with `removeDir`.
 */
export async function importedDb(): Promise<string> {
  const dbDir = await mkdtemp(join(tmpdir(), 'lading-e2e-db-'));
  const r = await lading(['db', 'import', OSV_DIR, '--db-dir', dbDir, '--quiet']);
  assert.match(r.stdout + r.stderr, /16 records imported/);
  return dbDir;
}

export async function removeDir(dir: string): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}

/** Parses `-o json` output (from stdout or a file) and checks it against schemas/report.schema.json. */
export function parseReport(text: string): Report {
  const report = JSON.parse(text) as Report;
  assertValidReport(report);
  return report;
}

export function readReport(file: string): Report {
  return parseReport(readFileSync(file, 'utf8'));
}

/** Reads a JSON document whose exact shape the test does not need typed. */
export function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** `type name version` of every package, sorted: the inventory as a person reads it. */
export function packageLines(report: Report): string[] {
  return report.packages.map((p) => `${p.type} ${p.name} ${p.version}`).sort();
}

/** `id package version severity status fixed` of every finding, sorted. */
export function findingLines(findings: Finding[]): string[] {
  return findings
    .map((f) => `${f.id} ${f.package.name} ${f.package.version} ${f.severity} ${f.status} ${f.fixedVersions.join(',')}`)
    .sort();
}

/** Each stderr line must be one human sentence, never a stack trace. */
export function assertOneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr.split('\n').filter((l) => l.trim() && !l.startsWith('npm warn'));
  assert.equal(lines.length, 1, `expected one error line, got:\n${stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(stderr, /^\s+at /m);
}
