import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { schemaFiles } from '../scripts/schemas.js';
import { ENGINE_ROOT } from './helpers/paths.js';

it('the shipped JSON Schemas are exactly what `npm run schemas` writes from their sources', () => {
  for (const [path, text] of Object.entries(schemaFiles())) {
    assert.equal(readFileSync(join(ENGINE_ROOT, path), 'utf8'), text, `engine/${path} is stale: run npm run schemas`);
  }
});
