import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { officialSchemaPath } from '../helpers/official-schemas.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const require = createRequire(import.meta.url);
const CDX_SCHEMA_DIR = join(dirname(require.resolve('@cyclonedx/cyclonedx-library/package.json')), 'res/schema');
export const SPDX_SCHEMA_PATH = officialSchemaPath('spdx-2.3.schema.json');

function load(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

const cache = new Map<string, ValidateFunction>();

/** The official CycloneDX schema of a version, with the SPDX-id, JSF and crypto schemas its `$ref`s name. */
export function cyclonedxValidator(version: '1.4' | '1.5' | '1.6' | '1.7'): ValidateFunction {
  const cached = cache.get(version);
  if (cached) return cached;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // The bom schemas refer to the helpers by their SNAPSHOT file names, resolved against their own $id.
  for (const helper of ['spdx', 'jsf-0.82', 'cryptography-defs']) {
    const schema = load(join(CDX_SCHEMA_DIR, `${helper}.SNAPSHOT.schema.json`));
    schema['$id'] = `http://cyclonedx.org/schema/${helper}.SNAPSHOT.schema.json`;
    ajv.addSchema(schema);
  }
  const validate = ajv.compile(load(join(CDX_SCHEMA_DIR, `bom-${version}.SNAPSHOT.schema.json`)));
  cache.set(version, validate);
  return validate;
}

/** SPDX 2.3's official schema (vendored in engine/test/schemas/). */
export function spdxValidator(): ValidateFunction {
  const cached = cache.get('spdx');
  if (cached) return cached;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const validate = ajv.compile(load(SPDX_SCHEMA_PATH));
  cache.set('spdx', validate);
  return validate;
}

export function errorsOf(validate: ValidateFunction): string {
  return JSON.stringify(validate.errors?.slice(0, 5), null, 1);
}
