import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Cataloger } from '../../src/catalog/cataloger.js';
import type { WantedFile, WantedFiles } from '../../src/image/file.js';

/** WantedFiles from an in-memory map of absolute path → content, as if one layer wrote them all. */
export function wantedFiles(entries: Record<string, string | Buffer>, layer = 'sha256:' + '0'.repeat(64)): WantedFiles {
  const map = new Map<string, WantedFile>();
  for (const [path, content] of Object.entries(entries)) {
    const buf = typeof content === 'string' ? Buffer.from(content) : content;
    map.set(path, { path, layer, meta: { size: buf.length, mode: 0o644, type: 'file' }, content: buf });
  }
  return map;
}

/** The files of a real folder (treated as an image root) that a cataloger wants, condensed as the walk would. */
export async function wantedFromDir(root: string, cataloger: Cataloger): Promise<WantedFiles> {
  const map = new Map<string, WantedFile>();
  async function visit(dir: string): Promise<void> {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      const path = '/' + posix.normalize(full.slice(root.length).split('\\').join('/')).replace(/^\/+/, '');
      if (entry.isDirectory()) {
        await visit(full);
        continue;
      }
      if (!entry.isFile()) continue;
      const st = await lstat(full);
      const meta = { size: st.size, mode: st.mode & 0o7777, type: 'file' as const };
      if (!cataloger.wants(path, meta)) continue;
      const raw = await readFile(full);
      const kept = cataloger.condense ? cataloger.condense(path, raw) : raw;
      if (!kept) continue;
      map.set(path, { path, meta, content: kept, ...(cataloger.condense ? { condensedBy: cataloger.id } : {}) });
    }
  }
  await visit(root);
  return map;
}
