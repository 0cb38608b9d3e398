// Where `scan` and `sbom` keep catalog results (the engine's cache/ module): resolved here, at the edge, from the
// flags and the environment, and passed down as a plain option.

import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ResultCacheOptions } from '@lading/engine/cache';
import { LadingError } from '@lading/engine/errors';
import { parseByteCount } from './commands/scan.js';

/**
 * `--no-cache` → none; else `--cache-dir`, `LADING_CACHE_DIR`, `$XDG_CACHE_HOME/lading/results` or
 * `~/.cache/lading/results`, capped by `LADING_CACHE_MAX_SIZE` (a size such as 256MiB; default 512 MiB).
 */
export function resultCacheFrom(
  flags: { cache?: boolean; cacheDir?: string },
  env: Readonly<Record<string, string | undefined>>,
): ResultCacheOptions | undefined {
  if (flags.cache === false) return undefined;
  const dir =
    flags.cacheDir ||
    env['LADING_CACHE_DIR'] ||
    join(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'lading', 'results');
  const cap = env['LADING_CACHE_MAX_SIZE'];
  if (!cap) return { dir };
  try {
    return { dir, maxBytes: parseByteCount(cap) };
  } catch {
    throw new LadingError('USAGE', `LADING_CACHE_MAX_SIZE: not a size: "${cap}" (e.g. 256MiB)`);
  }
}
