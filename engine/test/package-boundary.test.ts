import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { ENGINE_ROOT, REPO_ROOT } from './helpers/paths.js';

/**
 * The engine is used by the other packages (the CLI today; the server, the dashboard and the Action next) only through
 * its `exports` map. These tests read every import of the code outside the engine and fail on any that reaches into
 * engine/src or engine/dist directly, or that names a subpath the map does not export.
 */

const engineManifest = JSON.parse(readFileSync(join(ENGINE_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, string | Record<string, string>>;
  dependencies?: Record<string, string>;
};

/** Folders holding code that is not the engine's (tests of other packages included). */
const OUTSIDE = ['cli', 'server', 'dashboard', 'bench', 'scripts'].filter((d) => existsSync(join(REPO_ROOT, d)));

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name === 'fixtures' || name === 'out') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|tsx|mts|js|mjs)$/.test(name)) out.push(path);
  }
  return out;
}

/** Every module specifier in a file: static imports and re-exports, dynamic `import('…')`, `require('…')`. */
export function moduleSpecifiers(text: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const m of text.matchAll(pattern)) found.push(m[1]!);
  return found;
}

/** Why an import from `file` breaks the rule, or undefined when it keeps it. */
export function boundaryViolation(file: string, specifier: string): string | undefined {
  const exported = new Set(Object.keys(engineManifest.exports));
  if (specifier === engineManifest.name || specifier.startsWith(`${engineManifest.name}/`)) {
    const subpath = `.${specifier.slice(engineManifest.name.length)}`;
    return exported.has(subpath) ? undefined : `imports ${specifier}, which the engine does not export`;
  }
  if (!specifier.startsWith('.')) return undefined;
  const target = resolve(file, '..', specifier);
  const inEngine = relative(ENGINE_ROOT, target);
  if (inEngine.startsWith('..') || inEngine === '') return undefined;
  // The engine's test kit (starting registries, building images, running the CLI) is shared by every package's tests
  // and benchmarks.
  const isTest = file.includes(`${sep}test${sep}`) || file.includes(`${sep}bench${sep}`);
  if (isTest && inEngine.startsWith(`test${sep}helpers${sep}`)) return undefined;
  return `reaches into the engine's internals (${specifier}); import it from ${engineManifest.name}/… instead`;
}

describe('the engine package boundary', () => {
  it('code outside the engine imports it only through its exports map', () => {
    const violations: string[] = [];
    for (const dir of OUTSIDE) {
      for (const file of sourceFiles(join(REPO_ROOT, dir))) {
        for (const specifier of moduleSpecifiers(readFileSync(file, 'utf8'))) {
          const why = boundaryViolation(file, specifier);
          if (why) violations.push(`${relative(REPO_ROOT, file)}: ${why}`);
        }
      }
    }
    assert.deepEqual(violations, []);
  });

  it('the rule catches a deep relative import, an unexported subpath and a reach into dist', () => {
    const file = join(REPO_ROOT, 'cli/src/commands/scan.ts');
    assert.match(boundaryViolation(file, '../../../engine/src/image/walk/walk-image.js') ?? '', /internals/);
    assert.match(boundaryViolation(file, '@lading/engine/image/walk/walk-image') ?? '', /does not export/);
    assert.match(boundaryViolation(file, '../../../engine/dist/index.js') ?? '', /internals/);
    assert.equal(boundaryViolation(file, '@lading/engine/scan'), undefined);
    assert.equal(boundaryViolation(file, '../output.js'), undefined);
    const test = join(REPO_ROOT, 'cli/test/main.test.ts');
    assert.equal(boundaryViolation(test, '../../engine/test/helpers/cli.js'), undefined);
    assert.match(boundaryViolation(test, '../../engine/test/vulndb/zip-writer.js') ?? '', /internals/);
  });

  it('every exported subpath names a source file, declarations and a build output', () => {
    for (const [subpath, target] of Object.entries(engineManifest.exports)) {
      if (typeof target === 'string') {
        assert.ok(existsSync(join(ENGINE_ROOT, target)), `${subpath} → ${target}`);
        continue;
      }
      assert.deepEqual(Object.keys(target), ['source', 'types', 'default'], `${subpath}: condition order`);
      assert.ok(existsSync(join(ENGINE_ROOT, target['source']!)), `${subpath} → ${target['source']}`);
      assert.match(target['types']!, /^\.\/dist\/.*\.d\.ts$/);
      assert.equal(target['default'], target['types']!.replace(/\.d\.ts$/, '.js'));
      assert.equal(target['source'], target['default']!.replace(/^\.\/dist\//, './src/').replace(/\.js$/, '.ts'));
    }
  });

  it('the CLI depends on the engine and its own parser only', () => {
    const cli = JSON.parse(readFileSync(join(REPO_ROOT, 'cli/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      version: string;
    };
    assert.deepEqual(Object.keys(cli.dependencies).sort(), [engineManifest.name, 'commander'].sort());
    const engine = JSON.parse(readFileSync(join(ENGINE_ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(cli.version, engine.version, 'the CLI and the engine are released together');
  });
});
