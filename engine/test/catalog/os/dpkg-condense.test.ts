import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { condenseCopyright } from '../../../src/catalog/os/dpkg/copyright.js';
import { ENGINE_ROOT } from '../../helpers/paths.js';

/** The rule as text: decode, keep `Format:`/`License:` lines and common-licenses references, trim their ends. */
function referenceCondense(content: Buffer): Buffer {
  const kept = content
    .toString('utf8')
    .split('\n')
    .filter((line) => /^(format|license):/i.test(line) || line.includes('/usr/share/common-licenses/'))
    .map((line) => line.trimEnd());
  return Buffer.from(kept.join('\n'));
}

describe('dpkg copyright condensing', () => {
  test('the byte scan keeps exactly the lines the text rule keeps, for any bytes', () => {
    const piece = fc.oneof(
      fc.constantFrom(
        'License: ',
        'LICENSE:',
        'license:GPL-2+',
        'LiCeNsE: MIT',
        'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
        'format:',
        'Licence: x',
        ' License: indented',
        '/usr/share/common-licenses/GPL-2',
        '/usr/share/common-licenses',
        'see /usr/share/common-licenses/Apache-2.0.',
        '\n',
        '\r\n',
        ' \t ',
        'é',
        '\u00a0',
        'f',
        'l',
      ),
      fc.uint8Array({ maxLength: 6 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), fc.boolean(), (pieces, latin1) => {
        const text = pieces.join('');
        // Latin-1 encoding turns some pieces into invalid UTF-8, which both sides must decode alike.
        const content = Buffer.from(text, latin1 ? 'latin1' : 'utf8');
        assert.deepEqual(condenseCopyright(content), referenceCondense(content));
      }),
      { numRuns: 2000 },
    );
  });

  test('the fixture copyright files condense as the text rule says, keeping their license lines', () => {
    const docs = join(ENGINE_ROOT, 'test/fixtures/catalog/os/dpkg/bookworm/usr/share/doc');
    const files = readdirSync(docs).map((pkg) => readFileSync(`${docs}/${pkg}/copyright`));
    assert.ok(files.length >= 10);
    let kept = 0;
    for (const content of files) {
      const condensed = condenseCopyright(content);
      assert.deepEqual(condensed, referenceCondense(content));
      kept += condensed.length;
    }
    assert.ok(kept > 0);
  });
});
