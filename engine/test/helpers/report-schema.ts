import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

let validate: ValidateFunction | undefined;

/** Asserts that a value satisfies schemas/report.schema.json (the `-o json` contract). */
export function assertValidReport(value: unknown): void {
  if (!validate) {
    const schema = JSON.parse(readFileSync(new URL('../../schemas/report.schema.json', import.meta.url), 'utf8'));
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    validate = ajv.compile(schema);
  }
  assert.ok(validate(value), JSON.stringify(validate.errors?.slice(0, 5), null, 1));
}
