// Which code bin/lading-server.mjs runs: the compiled dist/main.js in an installed package (no src/, no tsx), the
// TypeScript sources through tsx in a development checkout when dist/ is missing or older than a source file, and a
// one-line error when there is neither. The bin is copied into package-shaped folders whose main modules say which
// one ran; they sit under the repository's .tmp/ so that tsx (a root devDependency) resolves there as it does in a
// checkout, or in the OS temp folder where nothing resolves, as in an installed package without devDependencies.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT } from '../../engine/test/helpers/cli.js';

const BIN = join(REPO_ROOT, 'server/bin/lading-server.mjs');
const made: string[] = [];
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A package folder with the bin and, as asked, a dist/main.js and a src/main.ts that print which one ran. */
function packageDir(parent: string, parts: { dist?: boolean; src?: boolean }): string {
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, 'lading-bin-'));
  made.push(dir);
  mkdirSync(join(dir, 'bin'));
  copyFileSync(BIN, join(dir, 'bin/lading-server.mjs'));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  const main = (which: string) =>
    `export async function main(args) { process.stdout.write('${which} ' + args.join(' ') + '\\n'); return 0; }\n`;
  if (parts.dist) {
    mkdirSync(join(dir, 'dist'));
    writeFileSync(join(dir, 'dist/main.js'), main('dist'));
  }
  if (parts.src) {
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src/main.ts'), main('src').replace('(args)', '(args: string[]): Promise<number>'));
  }
  return dir;
}

function run(dir: string) {
  return spawnSync(process.execPath, [join(dir, 'bin/lading-server.mjs'), 'start', '--role', 'api'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

const setMtime = (file: string, ms: number) => utimesSync(file, new Date(ms), new Date(ms));

describe('bin/lading-server.mjs', () => {
  it('runs dist/main.js in an installed package (no sources, no tsx), passing the arguments', () => {
    const dir = packageDir(tmpdir(), { dist: true });
    const result = run(dir);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'dist start --role api\n');
  });

  it('runs the sources through tsx in a development checkout when dist/ is missing or older than a source', () => {
    const parent = join(REPO_ROOT, '.tmp');
    const fresh = packageDir(parent, { src: true });
    assert.equal(run(fresh).stdout, 'src start --role api\n');
    const built = packageDir(parent, { src: true, dist: true });
    const now = Date.now();
    setMtime(join(built, 'src/main.ts'), now - 60_000);
    setMtime(join(built, 'dist/main.js'), now);
    assert.equal(run(built).stdout, 'dist start --role api\n', 'a build newer than every source runs');
    setMtime(join(built, 'src/main.ts'), now + 60_000);
    assert.equal(run(built).stdout, 'src start --role api\n', 'an edit after the build runs from source');
  });

  it('says in one line what to do when there is nothing to run, exit code 3', () => {
    const dir = packageDir(tmpdir(), { src: true });
    const result = run(dir);
    assert.equal(result.status, 3);
    assert.equal(result.stdout, '');
    assert.equal(
      result.stderr,
      'lading-server: dist/main.js is missing: build it with `npm run build -w @lading/server`\n',
    );
  });
});
