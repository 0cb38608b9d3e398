import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DIFF_FORMATS } from '@lading/engine/diff';
import { REPORT_FORMATS } from '@lading/engine/report';
import { Command } from 'commander';
import { build, type Metafile } from 'esbuild';
import { BUNDLE_OPTIONS } from '../scripts/bundle-options.mjs';
import { DIFF_FORMAT_NAMES } from '../src/commands/diff.js';
import { OUTPUT_FORMAT_NAMES } from '../src/commands/scan.js';

describe('lazy command loading', () => {
  it('the -o format names in the help text are exactly the renderers that load at run time', () => {
    assert.deepEqual([...OUTPUT_FORMAT_NAMES].sort(), Object.keys(REPORT_FORMATS).sort());
  });

  it('the diff -o format names are exactly the engine diff formats', () => {
    assert.deepEqual([...DIFF_FORMAT_NAMES], [...DIFF_FORMATS]);
  });

  it('registration alone still defines every command and its -o help', async () => {
    const { registerCommands } = await import('../src/commands/index.js');
    const program = new Command('lading');
    registerCommands(program);
    const names = program.commands.map((c) => c.name());
    assert.ok(names.includes('scan') && names.includes('sbom') && names.includes('db'));
    const sbom = program.commands.find((c) => c.name() === 'sbom');
    assert.match(sbom?.helpInformation() ?? '', /cyclonedx-json, spdx-json/);
  });
});

/** The bundle's chunks as esbuild lays them out (built in memory, nothing written), with the modules each holds. */
async function bundleLayout(): Promise<Metafile> {
  const result = await build({ ...BUNDLE_OPTIONS, write: false, metafile: true, sourcemap: false, logLevel: 'silent' });
  return result.metafile;
}

/**
 * The modules a command loads when it imports these engine modules: the chunks of those dynamic imports and of the
 * entry, and every chunk they import statically (what Node loads before the first line runs).
 */
function modulesLoadedFor(meta: Metafile, engineModules: string[]): string[] {
  const wanted = new Set(['src/bin.ts', ...engineModules.map((m) => `../engine/src/${m}/index.ts`)]);
  const queue = Object.entries(meta.outputs)
    .filter(([, out]) => out.entryPoint && wanted.has(out.entryPoint))
    .map(([file]) => file);
  assert.equal(queue.length, wanted.size, `a chunk for each of ${[...wanted].join(', ')}`);
  const seen = new Set<string>();
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const imp of meta.outputs[file]?.imports ?? []) if (imp.kind === 'import-statement') queue.push(imp.path);
  }
  return [...seen].flatMap((file) => Object.keys(meta.outputs[file]?.inputs ?? {}).concat(externalsOf(meta, file)));
}

function externalsOf(meta: Metafile, file: string): string[] {
  return (meta.outputs[file]?.imports ?? [])
    .filter((i) => i.external && i.kind === 'import-statement')
    .map((i) => i.path);
}

const HEAVY = /node_modules\/(yaml|ajv)\/|^better-sqlite3$/;

describe('what a scan loads (the bundle)', () => {
  it('scan --sbom-only and the policy module load no YAML parser, JSON Schema validator or SQLite driver', async () => {
    const meta = await bundleLayout();
    // runScanCommand's imports for an SBOM-only scan; a policy or VEX file, or matching, load more on demand.
    const loaded = modulesLoadedFor(meta, ['policy', 'report', 'scan']);
    assert.ok(
      loaded.some((m) => m.includes('engine/src/scan/assess.ts')),
      'the layout was read',
    );
    assert.deepEqual(
      loaded.filter((m) => HEAVY.test(m)),
      [],
    );
    // ...and they are still bundled, in the chunks that load when a policy is read.
    assert.ok(
      Object.values(meta.outputs).some((o) => Object.keys(o.inputs).some((m) => /node_modules\/yaml\//.test(m))),
    );
  });

  it('starting the CLI (--version, --help, registration) loads none of the engine beyond errors, the version and the model', async () => {
    const meta = await bundleLayout();
    const loaded = modulesLoadedFor(meta, []).filter((m) => m.includes('engine/src/'));
    const beyond = loaded.filter(
      (m) => !/engine\/src\/(errors|model)\/|engine\/src\/(version|package-files)\.ts$/.test(m),
    );
    assert.deepEqual(beyond, []);
  });
});
