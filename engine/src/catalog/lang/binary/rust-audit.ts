import { inflateSync } from 'node:zlib';
import { thrownValueText } from '../../../errors/lading-error.js';
import type { PackageFound } from '../../../model/package.js';
import { isRecord, tryPurl } from '../common.js';

export type RustCrate = Omit<PackageFound, 'locations' | 'foundBy'>;

/** Decompressed cargo-auditable data is a few KiB per hundred crates; more is not a real section. */
const MAX_JSON = 8 * 1024 * 1024;

export class RustAuditError extends Error {}

/**
 * Crates recorded by cargo-auditable in the `.dep-v0` section (zlib-compressed JSON). Build-only crates
 * (`kind: "build"`: build scripts and proc-macros) are not in the binary and are skipped; the root crate is kept,
 * marked `rust.root`.
 */
export function rustCrates(compressed: Buffer): RustCrate[] {
  let text: string;
  try {
    text = inflateSync(compressed, { maxOutputLength: MAX_JSON }).toString('utf8');
  } catch (err) {
    throw new RustAuditError(`cannot inflate .dep-v0: ${thrownValueText(err)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new RustAuditError('.dep-v0 is not JSON');
  }
  const list = isRecord(doc) ? doc.packages : undefined;
  if (!Array.isArray(list)) throw new RustAuditError('.dep-v0 has no packages list');
  const names = list.map((p) => (isRecord(p) && typeof p.name === 'string' ? p.name : undefined));
  const crates: RustCrate[] = [];
  for (const p of list) {
    if (!isRecord(p) || typeof p.name !== 'string' || typeof p.version !== 'string') continue;
    if (p.kind === 'build') continue;
    const purl = tryPurl({ type: 'cargo', name: p.name, version: p.version });
    if (!purl) continue;
    const crate: RustCrate = { name: p.name, version: p.version, type: 'cargo', purl, licenses: [] };
    const deps = Array.isArray(p.dependencies)
      ? p.dependencies.map((i) => (typeof i === 'number' ? names[i] : undefined)).filter((n): n is string => !!n)
      : [];
    if (deps.length) crate.dependsOn = [...new Set(deps)];
    const metadata: Record<string, string> = {};
    if (typeof p.source === 'string') metadata['rust.source'] = p.source;
    if (p.root === true) metadata['rust.root'] = 'true';
    if (Object.keys(metadata).length) crate.metadata = metadata;
    crates.push(crate);
  }
  return crates;
}
