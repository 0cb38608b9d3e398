import { createHash } from 'node:crypto';
import { isLadingError } from '../../../errors/lading-error.js';
import type { InflateAccount } from '../../../image/open.js';
import { type CatalogLimits, DEFAULT_LIMITS } from '../../cataloger.js';
import { baseName, errorText, tryPurl, uniq } from '../common.js';
import { type InflateBudget, isZip, listEntries, readEntry, type ZipEntry } from '../zip-reader.js';
import { parseManifest } from './manifest.js';

/** A Java package found in an archive, located by its path inside the outermost archive (empty: the archive itself). */
export interface JavaPackage {
  name: string;
  version: string;
  purl: string;
  licenses: string[];
  /** `WEB-INF/lib/y.jar` or `lib/x.war!/WEB-INF/lib/y.jar`; absent for the outer archive itself. */
  inner?: string;
  /** SHA-1 of the archive, when the archive is this package alone (not shaded with others): Maven Central's key. */
  sha1?: string;
  metadata: Record<string, string>;
}

export interface JavaScan {
  packages: JavaPackage[];
  problems: { inner?: string; message: string }[];
}

const ARCHIVE_EXT = /\.(jar|war|ear|par|jpi|hpi)$/i;
/** Manifests and pom.properties are a few KiB; a bigger one is not worth inflating. */
const MAX_SMALL_ENTRY = 1024 * 1024;
const MAX_PROBLEMS = 20;
/**
 * Archives opened inside one outer archive, at any depth: a real fat jar or ear holds a few hundred. A 42.zip-style
 * archive (16 jars in each jar, five levels) would otherwise mean a million archives and as many package objects.
 */
export const MAX_NESTED_ARCHIVES = 10_000;

export function isJavaArchivePath(path: string): boolean {
  return ARCHIVE_EXT.test(path);
}

/**
 * Every package in a Java archive and the archives nested in it, within the limits (depth, inflated bytes per
 * archive) and the image's inflate account when given: overdrawing that one throws its LIMIT error (the scan stops).
 */
export function scanJavaArchive(
  buf: Buffer,
  fileName: string,
  limits: CatalogLimits = DEFAULT_LIMITS,
  image?: InflateAccount,
): JavaScan {
  const scan: JavaScan = { packages: [], problems: [] };
  const budget: InflateBudget = { remaining: limits.maxInflateBytes, image };
  visit(buf, fileName, undefined, 0, limits, { budget, nestedLeft: MAX_NESTED_ARCHIVES }, scan);
  if (scan.problems.length > MAX_PROBLEMS) {
    // A forged archive can fail once per entry; a few examples say as much as thousands.
    const dropped = scan.problems.length - MAX_PROBLEMS;
    scan.problems = scan.problems.slice(0, MAX_PROBLEMS);
    scan.problems.push({ message: `${dropped} more problems in this archive not listed` });
  }
  return scan;
}

function visit(
  buf: Buffer,
  fileName: string,
  inner: string | undefined,
  depth: number,
  limits: CatalogLimits,
  shared: { budget: InflateBudget; nestedLeft: number },
  scan: JavaScan,
): void {
  const { budget } = shared;
  const at = inner ? { inner } : {};
  let entries: ZipEntry[];
  try {
    if (!isZip(buf)) throw new Error('not a zip archive');
    entries = listEntries(buf);
  } catch (err) {
    scan.problems.push({ ...at, message: `cannot read Java archive: ${errorText(err)}` });
    return;
  }
  const read = (entry: ZipEntry): Buffer | undefined => {
    try {
      return readEntry(buf, entry, budget);
    } catch (err) {
      // The image's budget is spent: not a problem of this archive, the end of the scan.
      if (isLadingError(err)) throw err;
      scan.problems.push({ ...at, message: `${entry.name}: ${errorText(err)}` });
      return undefined;
    }
  };
  const small = (entry: ZipEntry) => entry.size <= MAX_SMALL_ENTRY && entry.compressedSize <= MAX_SMALL_ENTRY;

  const fromPoms: JavaPackage[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    if (!/^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/.test(entry.name) || !small(entry)) continue;
    const content = read(entry);
    if (!content) continue;
    const props = parseProperties(content.toString('utf8'));
    const pkg = fromCoordinates(props.groupId, props.artifactId, props.version, inner, {
      'java.source': 'pom.properties',
      'java.pomPath': entry.name,
    });
    if (!pkg) {
      // A cut or garbled pom.properties: the manifest may still name the archive, but not silently.
      scan.problems.push({ ...at, message: `${entry.name}: no valid artifactId and version` });
    } else if (!seen.has(pkg.purl)) {
      seen.add(pkg.purl);
      fromPoms.push(pkg);
    }
  }
  const sha1 = () => createHash('sha1').update(buf).digest('hex');
  if (fromPoms.length === 1 && fromPoms[0]) fromPoms[0].sha1 = sha1();
  for (const pkg of fromPoms) scan.packages.push(pkg);

  if (fromPoms.length === 0) {
    const manifestEntry = entries.find((e) => e.name.toUpperCase() === 'META-INF/MANIFEST.MF');
    const manifest = manifestEntry && small(manifestEntry) ? read(manifestEntry) : undefined;
    const pkg = fromManifestOrName(manifest?.toString('utf8'), fileName, inner);
    const container = entries.some((e) => ARCHIVE_EXT.test(e.name));
    // An archive that only wraps others (an unversioned ear) is not a package; anything else unnamed is worth a word.
    if (pkg) scan.packages.push({ ...pkg, sha1: sha1() });
    else if (!container)
      scan.problems.push({ ...at, message: 'no name and version in pom.properties, MANIFEST.MF or file name' });
  }

  for (const entry of entries) {
    if (!ARCHIVE_EXT.test(entry.name) || entry.name.endsWith('/')) continue;
    const innerPath = inner ? `${inner}!/${entry.name}` : entry.name;
    if (depth + 1 > limits.maxArchiveDepth) {
      scan.problems.push({
        inner: innerPath,
        message: `archive nesting deeper than ${limits.maxArchiveDepth}: not read`,
      });
      continue;
    }
    if (--shared.nestedLeft < 0) {
      if (shared.nestedLeft === -1) {
        scan.problems.push({
          inner: innerPath,
          message: `more than ${MAX_NESTED_ARCHIVES} nested archives: the rest not read`,
        });
      }
      return;
    }
    const content = read(entry);
    if (content) visit(content, baseName(entry.name), innerPath, depth + 1, limits, shared, scan);
    if (budget.remaining <= 0) return;
  }
}

function fromCoordinates(
  groupId: string | undefined,
  artifactId: string | undefined,
  version: string | undefined,
  inner: string | undefined,
  metadata: Record<string, string>,
): JavaPackage | undefined {
  if (!artifactId || !version) return undefined;
  const group = groupId || artifactId;
  const purl = tryPurl({ type: 'maven', namespace: group, name: artifactId, version });
  if (!purl) return undefined;
  const meta: Record<string, string> = { ...metadata, 'maven.artifactId': artifactId };
  if (groupId) meta['maven.groupId'] = groupId;
  return { name: `${group}:${artifactId}`, version, purl, licenses: [], ...(inner ? { inner } : {}), metadata: meta };
}

/**
 * Without pom.properties: the artifact name from the file name when it has the Maven `name-version` shape (it
 * usually does, and manifest titles are free text), the version from the manifest, else the file name.
 * The group id comes from Implementation-Vendor-Id or Bundle-SymbolicName; failing both, the artifact id
 * stands in (as for `oro:oro`), and `maven.groupId` is left out to say it was not found.
 */
function fromManifestOrName(text: string | undefined, fileName: string, inner: string | undefined) {
  const manifest = text ? parseManifest(text) : { main: {}, sections: [] };
  // The first section naming an attribute wins, the main section over all (a loop: a manifest may hold any number
  // of sections, too many to spread into one call).
  const attrs: Record<string, string> = {};
  for (let i = manifest.sections.length - 1; i >= 0; i--) Object.assign(attrs, manifest.sections[i]);
  Object.assign(attrs, manifest.main);
  const byName = /^(.+?)-(\d[^/]*)\.[a-z]+$/i.exec(fileName);
  const symbolic = attrs['Bundle-SymbolicName']?.split(';')[0]?.trim();
  const title = attrs['Implementation-Title'] ?? attrs['Specification-Title'];
  const artifactId = byName?.[1] ?? symbolic?.split('.').pop() ?? title?.replace(/\s+/g, '-');
  const version =
    attrs['Implementation-Version']?.split(/\s+/)[0] ??
    attrs['Bundle-Version'] ??
    byName?.[2] ??
    attrs['Specification-Version'];
  let groupId = attrs['Implementation-Vendor-Id'];
  if (!groupId && symbolic && artifactId && symbolic.endsWith(`.${artifactId}`)) {
    groupId = symbolic.slice(0, -artifactId.length - 1);
  }
  const source = text && (attrs['Implementation-Version'] || attrs['Bundle-Version']) ? 'MANIFEST.MF' : 'file name';
  const pkg = fromCoordinates(groupId, artifactId, version, inner, { 'java.source': source });
  if (!pkg) return undefined;
  const license = attrs['Bundle-License'];
  pkg.licenses = uniq(license && !/^https?:/i.test(license) ? license.split(',') : []);
  if (attrs['Implementation-Vendor']) pkg.metadata['java.vendor'] = attrs['Implementation-Vendor'];
  return pkg;
}

/** Java .properties, the subset pom.properties uses: `key=value` lines and `#` comments. */
function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (m?.[1]) out[m[1]] = (m[2] ?? '').trim();
  }
  return out;
}
