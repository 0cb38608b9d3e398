import { homedir } from 'node:os';
import { join } from 'node:path';

/** `--db-dir`, else `LADING_DB_DIR`, else `$XDG_CACHE_HOME/lading`, else `~/.cache/lading`. */
export function resolveDbDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return flag;
  if (env['LADING_DB_DIR']) return env['LADING_DB_DIR'];
  const cache = env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(cache, 'lading');
}
