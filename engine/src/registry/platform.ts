import { LadingError } from '../errors/lading-error.js';
import type { Platform } from './manifest.js';

export const DEFAULT_PLATFORM = 'linux/amd64';

export interface PlatformWanted {
  os: string;
  architecture: string;
  variant?: string;
}

/** `os/arch[/variant]` → parts; USAGE error on anything else. */
export function parsePlatform(s: string): PlatformWanted {
  const parts = s.trim().toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/.test(p))) {
    throw new LadingError('USAGE', `invalid platform "${s}": expected os/arch[/variant], e.g. linux/arm64`);
  }
  const [os = '', architecture = '', variant] = parts;
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function formatPlatform(p: { os: string; architecture: string; variant?: string | undefined }): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/** The variant an architecture implies when none is written (containerd's normalization). */
function effectiveVariant(architecture: string, variant: string | undefined): string | undefined {
  if (variant) return variant;
  if (architecture === 'arm64') return 'v8';
  if (architecture === 'arm') return 'v7';
  return undefined;
}

/** Whether an index entry's platform satisfies the wanted one (no variant wanted: any variant of the arch). */
export function platformMatches(wanted: PlatformWanted, entry: Platform | undefined): boolean {
  if (!entry) return false;
  if (entry.os !== wanted.os || entry.architecture !== wanted.architecture) return false;
  if (!wanted.variant) return true;
  return effectiveVariant(entry.architecture, entry.variant) === effectiveVariant(wanted.architecture, wanted.variant);
}

/**
 * Index entries for the wanted platform, best first: an exact variant match, then the architecture's default
 * variant (arm64 → v8), then any other.
 */
export function rankByPlatform<T extends { platform?: Platform }>(wanted: PlatformWanted, entries: T[]): T[] {
  const matching = entries.filter((e) => platformMatches(wanted, e.platform));
  const score = (e: T): number => {
    const v = e.platform?.variant;
    if (wanted.variant) return v === wanted.variant ? 0 : 1;
    return !v || v === effectiveVariant(wanted.architecture, undefined) ? 0 : 1;
  };
  return matching.sort((a, b) => score(a) - score(b));
}
