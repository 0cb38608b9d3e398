import { PackageURL } from 'packageurl-js';

export interface PurlParts {
  type: string;
  namespace?: string;
  name: string;
  version?: string;
  qualifiers?: Record<string, string | undefined>;
  subpath?: string;
}

/** Builds a canonical purl string (purl spec: per-type name normalization, percent-encoding, sorted qualifiers). */
export function buildPurl(parts: PurlParts): string {
  const qualifiers: Record<string, string> = {};
  for (const [key, value] of Object.entries(parts.qualifiers ?? {})) {
    if (value !== undefined && value !== '') qualifiers[key] = value;
  }
  return new PackageURL(
    parts.type,
    parts.namespace || undefined,
    parts.name,
    parts.version || undefined,
    Object.keys(qualifiers).length ? qualifiers : undefined,
    parts.subpath || undefined,
  ).toString();
}

/** Parses a purl; returns undefined for a malformed one rather than throwing. */
export function parsePurl(purl: string): PurlParts | undefined {
  try {
    const p = PackageURL.fromString(purl);
    const parts: PurlParts = { type: p.type, name: p.name };
    if (p.namespace) parts.namespace = p.namespace;
    if (p.version) parts.version = p.version;
    if (p.qualifiers) parts.qualifiers = { ...p.qualifiers };
    if (p.subpath) parts.subpath = p.subpath;
    return parts;
  } catch {
    return undefined;
  }
}
