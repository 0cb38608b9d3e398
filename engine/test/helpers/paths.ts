import { fileURLToPath } from 'node:url';

/** The repository's root (its bin/lading runs the built CLI; node_modules is hoisted there). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The engine package's folder (its test fixtures and schemas), whatever folder the tests run from. */
export const ENGINE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
