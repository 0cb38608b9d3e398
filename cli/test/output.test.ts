import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatWarning, type Report, scanWarning } from '@lading/engine/model';
import { printVerdict, printWarnings } from '../src/output.js';

/** What `run` writes to stderr, captured. */
function stderrOf(run: () => void): string {
  const chunks: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    run();
  } finally {
    process.stderr.write = write;
  }
  return chunks.join('');
}

describe('warnings: one constructor, one printer', () => {
  it('records a warning on one line and words it the same everywhere', () => {
    const w = scanWarning('npm', 'malformed JSON:\nUnexpected token\u001b[31m', '/app/package.json');
    assert.deepEqual(w, {
      cataloger: 'npm',
      path: '/app/package.json',
      message: 'malformed JSON: Unexpected token[31m',
    });
    // The keys in the report's order, so JSON output is what it was before the constructor.
    assert.deepEqual(Object.keys(w), ['cataloger', 'path', 'message']);
    assert.deepEqual(Object.keys(scanWarning('match', 'm', 'p', 'pkg-1')), [
      'cataloger',
      'path',
      'message',
      'packageId',
    ]);
    assert.equal(formatWarning(w), 'npm /app/package.json: malformed JSON: Unexpected token[31m');
    assert.equal(formatWarning(scanWarning('vulndb', 'Debian data is old')), 'vulndb: Debian data is old');
  });

  it('prints engine warnings and plain ones as `lading: warning: …`, nothing under -q', () => {
    const warnings = [scanWarning('vulndb', 'KEV not updated: timeout', 'https://kev.example/kev.json'), 'x is a tag'];
    assert.equal(
      stderrOf(() => printWarnings(warnings)),
      'lading: warning: vulndb https://kev.example/kev.json: KEV not updated: timeout\nlading: warning: x is a tag\n',
    );
    assert.equal(
      stderrOf(() => printWarnings(warnings, { quiet: true })),
      '',
    );
  });

  it('prints a verdict: expired exceptions and gate lines always, policy warnings unless -q', () => {
    const report = {
      policy: {
        pass: false,
        violations: [
          { rule: 'few-high', action: 'warn', message: 'CVE-1 (HIGH) in a 1' },
          { rule: 'no-critical', action: 'fail', message: 'CVE-2 (CRITICAL) in b 2' },
        ],
        expiredExceptions: [{ id: 'CVE-3', reason: 'r', expires: '2024-06-30' }],
      },
      gate: { pass: false, reasons: ['policy rule no-critical: CVE-2 (CRITICAL) in b 2'], notes: ['baseline: fell'] },
    } as unknown as Report;
    const expired = 'lading: policy exception for CVE-3 expired on 2024-06-30 and no longer applies\n';
    const gate = 'lading: baseline: fell\nlading: policy rule no-critical: CVE-2 (CRITICAL) in b 2\n';
    assert.equal(
      stderrOf(() => printVerdict(report)),
      `${expired}lading: policy warning: few-high: CVE-1 (HIGH) in a 1\n${gate}`,
    );
    assert.equal(
      stderrOf(() => printVerdict(report, { quiet: true })),
      `${expired}${gate}`,
    );
  });
});
