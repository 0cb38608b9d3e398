import { readFileSync } from 'node:fs';
import { packageFile } from './package-files.js';

/** The package's own version, read once from its package.json. */
export const LADING_VERSION: string = (
  JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string }
).version;
