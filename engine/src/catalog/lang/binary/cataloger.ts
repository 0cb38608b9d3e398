import type { FileMeta, RandomAccessFile, WantedFile, WantedFiles } from '../../../image/file.js';
import type { PackageFound } from '../../../model/package.js';
import type { ScanWarning } from '../../../model/warning.js';
import type { Cataloger, CatalogResult } from '../../cataloger.js';
import { errorText, locationOf, warn } from '../common.js';
import { type BinaryFacts, decodeFacts, encodeFacts, extractBinaryFacts, extractBinaryFactsFrom } from './extract.js';
import { goModules } from './go-modules.js';
import { rustCrates } from './rust-audit.js';

const ID = 'binary';
/** Executables larger than this are not read (the walk's own cap still applies below it). */
const MAX_BINARY_BYTES = 512 * 1024 * 1024;
/**
 * Executable-bit files other catalogers read or that are never binaries: left out so the walk can condense
 * each for its one cataloger (it condenses only files a single cataloger wants).
 */
const NOT_BINARY = /\.(jar|war|ear|par|jpi|hpi|egg|zip|json|gemspec|py|sh|bash|js|mjs|cjs|rb|pl|txt|md)$/i;

/**
 * Go binaries (build info) and Rust binaries built with cargo-auditable (`.dep-v0`), in one cataloger because
 * both want every executable: the walk condenses a file only when a single cataloger wants it, and keeping
 * whole binaries in memory until cataloging is what condensing avoids.
 */
export const binaryCataloger: Cataloger = {
  id: ID,
  version: 2,
  wants(path: string, meta: FileMeta): boolean {
    if (meta.type !== 'file' || ((meta.mode & 0o111) === 0 && !path.endsWith('.exe'))) return false;
    return meta.size <= MAX_BINARY_BYTES && !NOT_BINARY.test(path);
  },
  condense: (_path: string, content: Buffer) => condensedFacts(() => extractBinaryFacts(content)),
  condenseAt: (_path: string, file: RandomAccessFile) => condensedFacts(() => extractBinaryFactsFrom(file)),
  async catalog(files: WantedFiles): Promise<CatalogResult> {
    const packages: PackageFound[] = [];
    const warnings: ScanWarning[] = [];
    for (const file of files.values()) {
      let facts: BinaryFacts | undefined;
      try {
        facts = file.condensedBy === ID ? decodeFacts(file.content) : extractBinaryFacts(file.content);
      } catch (err) {
        warnings.push(warn(ID, file.path, `cannot read binary: ${errorText(err)}`));
        continue;
      }
      if (!facts) continue;
      if (facts.problem) warnings.push(warn(ID, file.path, facts.problem));
      for (const pkg of fromFacts(file, facts, warnings)) packages.push(pkg);
    }
    return { packages, warnings };
  },
};

/** The walk must survive any file: a problem is kept, to be reported when cataloging. */
function condensedFacts(extract: () => BinaryFacts | undefined): Buffer | null {
  try {
    const facts = extract();
    return facts ? encodeFacts(facts) : null;
  } catch (err) {
    return encodeFacts({ problem: `cannot read binary: ${errorText(err)}` });
  }
}

function fromFacts(file: WantedFile, facts: BinaryFacts, warnings: ScanWarning[]): PackageFound[] {
  const out: PackageFound[] = [];
  const location = locationOf(file);
  if (facts.go) {
    for (const mod of goModules(facts.go)) out.push({ ...mod, locations: [location], foundBy: 'go-binary' });
  }
  if (facts.rustDeps) {
    try {
      for (const crate of rustCrates(facts.rustDeps)) {
        out.push({ ...crate, locations: [location], foundBy: 'rust-audit-binary' });
      }
    } catch (err) {
      warnings.push(warn(ID, file.path, errorText(err)));
    }
  }
  return out;
}
