import { assignIds } from '../catalog/run.js';
import { describeError, LadingError, thrownValueText } from '../errors/lading-error.js';
import { readUserFile } from '../image/sources/regular-file.js';
import type { Inventory } from '../model/inventory.js';
import type { PackageFound } from '../model/package.js';
import type { TargetInfo } from '../model/target.js';
import { type ScanWarning, scanWarning } from '../model/warning.js';
import { asObject, type JsonObject } from './json-guards.js';
import { osFromPurls } from './os-ecosystem.js';
import { packageFromComponent } from './package-from-component.js';
import { readCycloneDx } from './read-cyclonedx.js';
import { readSpdx } from './read-spdx.js';
import type { SbomDocument } from './sbom-document.js';
import { SkipLog } from './skip-log.js';

export interface SbomInput {
  target: TargetInfo;
  inventory: Inventory;
}

/**
 * Largest SBOM file read by default: 128 MiB. A JSON document is parsed whole, which costs several times the file's
 * size: 128 MiB holding 200,000 components peaks near 800 MB (a 235 MB document of a million, 2.4 GB), so larger
 * files are refused with a clear error instead. `InventoryOptions.maxSbomBytes` (the CLI's `LADING_SBOM_MAX_BYTES`)
 * lowers or raises it.
 */
export const DEFAULT_MAX_SBOM_BYTES = 128 * 1024 * 1024;
/** Components (packages) read from one SBOM: ten times what the largest images hold, and memory stays bounded. */
export const MAX_SBOM_COMPONENTS = 200_000;

/** Reads a CycloneDX (1.4–1.7) or SPDX (2.2/2.3) JSON document into an inventory. */
export async function readSbomFile(path: string, maxBytes = DEFAULT_MAX_SBOM_BYTES): Promise<SbomInput> {
  const where = `sbom:${path}`;
  let text: string;
  try {
    text = await readBounded(path, maxBytes, where);
  } catch (err) {
    if (err instanceof LadingError) throw err;
    throw new LadingError('IO', `cannot read ${where}: ${describeError(err)}`, { cause: err });
  }
  return parseSbom(text, path);
}

/** The same, from a document's text (the path only names it in messages and in the target). */
export function parseSbom(text: string, path: string): SbomInput {
  const where = `sbom:${path}`;
  let parsed: unknown;
  try {
    const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    // An attestation bundle (`.intoto.jsonl`) holds one envelope per line: the first is the SBOM's.
    parsed = JSON.parse(path.endsWith('.jsonl') ? (body.split('\n').find((l) => l.trim() !== '') ?? '') : body);
  } catch (err) {
    // V8 quotes the offending text, newlines and all: keep the error on one line.
    const reason = thrownValueText(err).replace(/\s+/g, ' ').slice(0, 200);
    throw new LadingError('BAD_INPUT', `cannot read ${where}: not valid JSON (${reason})`);
  }
  const doc = unwrapAttestation(asObject(parsed), where);
  let document: SbomDocument;
  if (doc?.['bomFormat'] === 'CycloneDX') document = readCycloneDx(doc, where);
  else if (doc && 'spdxVersion' in doc) document = readSpdx(doc, where);
  else throw new LadingError('BAD_INPUT', `cannot read ${where}: not a CycloneDX or SPDX JSON document`);
  return toInventory(document, path);
}

function toInventory(document: SbomDocument, path: string): SbomInput {
  if (document.components.length > MAX_SBOM_COMPONENTS) {
    throw new LadingError('LIMIT', `cannot read sbom:${path}: more than ${MAX_SBOM_COMPONENTS} components`);
  }
  const skips = new SkipLog();
  const found: PackageFound[] = [];
  const byRef = new Map<string, PackageFound>();
  for (const component of document.components) {
    const pkg = packageFromComponent(component, skips);
    if (!pkg) continue;
    found.push(pkg);
    if (component.ref) byRef.set(component.ref, pkg);
  }
  for (const [ref, targets] of document.dependsOn) {
    const from = byRef.get(ref);
    if (!from) continue;
    const names = new Set<string>();
    for (const target of targets) {
      const to = byRef.get(target);
      if (to && to !== from && to.type === from.type) names.add(to.name);
    }
    if (names.size) from.dependsOn = [...names].sort();
  }

  const warnings: ScanWarning[] = skips.warnings(`sbom:${path}`);
  let os = document.os;
  if (!os) {
    const guessed = osFromPurls(found);
    os = guessed.os;
    if (guessed.distinct > 1) {
      warnings.push(
        scanWarning(
          'sbom',
          `OS packages name ${guessed.distinct} different distributions; matching them as ${os?.family} ${os?.version}`,
          `sbom:${path}`,
        ),
      );
    }
  }
  const inventory: Inventory = { packages: assignIds(found), warnings };
  if (os) inventory.os = os;
  const target: TargetInfo = {
    ...document.target,
    kind: 'sbom',
    ref: `sbom:${path}`,
    layers: document.target.layers ?? [],
  };
  return { target, inventory };
}

/**
 * An SBOM inside a DSSE envelope (cosign `attest` output) or an in-toto statement is read as the SBOM it carries;
 * signatures are not checked here (`lading verify-attestation` does that).
 */
function unwrapAttestation(doc: JsonObject | undefined, where: string): JsonObject | undefined {
  let current = doc;
  if (typeof current?.['payloadType'] === 'string' && typeof current['payload'] === 'string') {
    try {
      current = asObject(JSON.parse(Buffer.from(current['payload'], 'base64').toString('utf8')));
    } catch {
      throw new LadingError('BAD_INPUT', `cannot read ${where}: the DSSE envelope's payload is not base64 JSON`);
    }
  }
  if (typeof current?.['_type'] === 'string' && String(current['_type']).startsWith('https://in-toto.io/Statement/')) {
    const predicate = asObject(current['predicate']);
    // cosign wraps non-JSON-object predicates as {"Data": "..."}; a CycloneDX/SPDX predicate is the document itself.
    const data = predicate?.['Data'];
    if (typeof data === 'string') {
      try {
        return asObject(JSON.parse(data));
      } catch {
        return undefined;
      }
    }
    return predicate;
  }
  return current;
}

/**
 * The file's bytes, refusing more than `maxBytes`, counted while reading. A regular file, or `sbom:/dev/stdin`
 * (read up to the cap): a named pipe or a device such as /dev/zero is refused before any read.
 */
async function readBounded(path: string, maxBytes: number, where: string): Promise<string> {
  try {
    return (await readUserFile(path, maxBytes, { label: where, stdin: true })).toString('utf8');
  } catch (err) {
    if (err instanceof LadingError && err.code === 'LIMIT') {
      throw new LadingError('LIMIT', `cannot read ${where}: over the ${maxBytes}-byte limit for SBOM files`);
    }
    // a directory, a pipe or a device: an input that cannot be read, as a missing file is
    if (err instanceof LadingError) throw new LadingError('IO', err.message, { cause: err });
    throw err;
  }
}
