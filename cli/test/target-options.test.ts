import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { runCli } from '../../engine/test/helpers/cli.js';
import { registerCommands } from '../src/commands/index.js';

/** scan's options that `lading sbom` has no use for, each with the reason. Anything else must exist on both. */
const SCAN_ONLY: Record<string, string> = {
  '--sbom-only': 'sbom is always SBOM-only',
  '--severity': 'filters findings; an SBOM has none',
  '--ignore-unfixed': 'filters findings',
  '--fail-on': 'a gate over findings',
  '--show-suppressed': 'shows suppressed findings',
  '--summary': "the findings table's one-line-per-package view",
  '--policy': 'a gate',
  '--vex': 'suppresses findings',
  '--baseline': 'a gate',
  '--baseline-severity': "the baseline gate's threshold",
  '--baseline-update': 'written when the gates pass',
  '--allow-missing-data': 'about matching: sbom does not match',
  '--skip-db-update': 'about matching: sbom needs no vulnerability data',
  '--no-secrets': 'sbom never scans for secrets: an SBOM has no place for them',
};

function optionsOf(program: Command, name: string): Map<string, string> {
  const cmd = program.commands.find((c) => c.name() === name);
  assert.ok(cmd, `no ${name} command`);
  return new Map(cmd.options.map((o) => [o.long ?? o.flags, o.flags]));
}

describe('lading sbom takes the target options of lading scan', () => {
  it('every scan option but the matching and gating ones exists on sbom, spelled the same', () => {
    const program = new Command('lading');
    registerCommands(program);
    const scan = optionsOf(program, 'scan');
    const sbom = optionsOf(program, 'sbom');
    for (const flag of Object.keys(SCAN_ONLY))
      assert.ok(scan.has(flag), `${flag} is listed as scan-only but scan lacks it`);
    const shared = [...scan].filter(([long]) => !(long in SCAN_ONLY));
    assert.deepEqual(new Map(shared), sbom);
    for (const flag of ['--offline', '--platform', '--insecure-registry', '--max-image-size', '--verify-diff-ids']) {
      assert.ok(sbom.has(flag), flag);
    }
  });

  it('accepts --offline and --db-dir on sbom (they used to be unknown options)', async () => {
    const r = await runCli([
      'sbom',
      'dir:engine/test/fixtures/smoke/rootfs',
      '--offline',
      '--db-dir',
      '/nonexistent/lading-db',
      '-q',
      '-o',
      'spdx-json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"spdxVersion"/);
  });
});
