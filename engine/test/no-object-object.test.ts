// `String(err)` of a thrown object is "[object Object]" and `(err as Error).message` of one is undefined: a user
// would read either in a message. Errors of unknown type are worded by thrownValueText (or describeError) instead;
// this test greps engine/src and cli/src for the two patterns.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from './helpers/paths.js';

const ROOTS = [join(REPO_ROOT, 'engine', 'src'), join(REPO_ROOT, 'cli', 'src')];
const UNKNOWN_ERROR_AS_TEXT = [/\bString\((err|error|e|cause|reason)\)/, /\((err|e|error) as Error\)\.message/];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

describe('errors of unknown type are never turned into text blindly', () => {
  it('engine/src and cli/src use thrownValueText or describeError', () => {
    const found = ROOTS.flatMap(sources).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) =>
          UNKNOWN_ERROR_AS_TEXT.some((p) => p.test(line))
            ? [`${relative(REPO_ROOT, file)}:${i + 1}: ${line.trim()}`]
            : [],
        ),
    );
    assert.deepEqual(found, []);
  });
});
