import { thrownValueText } from '../../errors/lading-error.js';
import type { WantedFile } from '../../image/file.js';
import type { Location } from '../../model/package.js';
import { buildPurl, type PurlParts } from '../../model/purl.js';
import { oneLine, type ScanWarning, scanWarning } from '../../model/warning.js';

export { oneLine };

/** The location of a package found in `file` (optionally inside an archive: `/app/x.war!/WEB-INF/lib/y.jar`). */
export function locationOf(file: WantedFile, innerPath?: string): Location {
  const path = innerPath ? `${file.path}!/${innerPath.replace(/^\/+/, '')}` : file.path;
  return file.layer ? { path, layer: file.layer } : { path };
}

/** A cataloger's warning about a file: the message kept to one short line. */
export function warn(cataloger: string, path: string, message: string): ScanWarning {
  return scanWarning(cataloger, oneLine(message), path);
}

export function errorText(err: unknown): string {
  return thrownValueText(err);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Parses JSON text; a failure is reported as a string rather than thrown. */
export function parseJson(content: Buffer | string): { value: unknown } | { error: string } {
  try {
    const text = typeof content === 'string' ? content : content.toString('utf8');
    return { value: JSON.parse(text.replace(/^\uFEFF/, '')) };
  } catch (err) {
    return { error: `malformed JSON: ${errorText(err)}` };
  }
}

/** Unique, non-empty, in first-seen order. */
export function uniq(values: Iterable<string | undefined>): string[] {
  const seen = new Set<string>();
  for (const v of values) if (v && v.trim() !== '') seen.add(v.trim());
  return [...seen];
}

export function baseName(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash >= 0 ? path.slice(slash + 1) : path;
}

export function dirName(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash > 0 ? path.slice(0, slash) : '/';
}

/** A purl, or undefined when the parts are not valid for the type (the caller reports a warning). */
export function tryPurl(parts: PurlParts): string | undefined {
  try {
    return buildPurl(parts);
  } catch {
    return undefined;
  }
}
