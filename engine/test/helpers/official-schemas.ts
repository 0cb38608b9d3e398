import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINE_ROOT } from './paths.js';

/** The official schemas vendored in engine/test/schemas/ (sources, versions and licences in its README.md). */
export type OfficialSchemaFile = 'sarif-2.1.0.schema.json' | 'spdx-2.3.schema.json' | 'openvex.schema.json';

export function officialSchemaPath(file: OfficialSchemaFile): string {
  return join(ENGINE_ROOT, 'test/schemas', file);
}

/** A fresh copy each call: some validators need keywords deleted before they compile it. */
export function readOfficialSchema(file: OfficialSchemaFile): Record<string, unknown> {
  return JSON.parse(readFileSync(officialSchemaPath(file), 'utf8')) as Record<string, unknown>;
}
