import { LadingError } from '../errors/lading-error.js';

/**
 * An OCI platform, as index entries and image configs write it. `os.version` and `os.features` are kept for the
 * report but play no part in choosing an image (they matter only for Windows images, which Lading does not read).
 */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

/** What an image is chosen for when no `--platform` is given (not the host's: a scan is about an image, not a run). */
export const DEFAULT_PLATFORM = 'linux/amd64';

/** `os/arch[/variant]` → parts (lowercased, as written otherwise); USAGE error on anything else. */
export function parsePlatform(s: string): Platform {
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

/** os, architecture and variant in one canonical spelling; nothing else (os.version and os.features are dropped). */
export interface NormalPlatform {
  os: string;
  architecture: string;
  variant?: string;
}

/**
 * The canonical form of a platform, as containerd's `platforms.Normalize` spells it: `x86_64` is `amd64` (whose
 * `v1` is no variant), `aarch64` is `arm64` (whose plain form is `v8`), `armhf` is `arm/v7`, `armel` is `arm/v6`,
 * a bare `arm` is `arm/v7`, `i386` is `386`, `macos` is `darwin`. Unlike containerd, arm64 keeps `v8` written out.
 */
export function normalizePlatform(p: {
  os: string;
  architecture: string;
  variant?: string | undefined;
}): NormalPlatform {
  let os = p.os.toLowerCase();
  if (os === 'macos') os = 'darwin';
  let architecture = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase() || undefined;
  switch (architecture) {
    case 'i386':
      architecture = '386';
      variant = undefined;
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      architecture = 'amd64';
      if (variant === 'v1') variant = undefined;
      break;
    case 'aarch64':
    case 'arm64':
      architecture = 'arm64';
      if (variant === undefined || variant === '8' || variant === 'v8.0') variant = 'v8';
      else if (variant === '9' || variant === 'v9.0') variant = 'v9';
      break;
    case 'armhf':
      architecture = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      architecture = 'arm';
      variant = 'v6';
      break;
    case 'arm':
      if (variant === undefined || variant === '7') variant = 'v7';
      else if (variant === '5' || variant === '6' || variant === '8') variant = `v${variant}`;
      break;
  }
  return variant ? { os, architecture, variant } : { os, architecture };
}

/**
 * The platforms that satisfy a request, best first. This is THE platform rule of Lading, the same for an OCI
 * layout, an OCI archive, a registry and a single-platform image: containerd's `platforms.Only` (what
 * `docker pull --platform` applies), within one architecture. The request itself first, normalized (`linux/arm`
 * means `linux/arm/v7`, `linux/arm64` means `linux/arm64/v8`); then the lower variants its CPU also runs, newest
 * first:
 * - arm/vN runs arm/v(N-1) … arm/v5: linux/arm/v7 takes v7, else v6, else v5; linux/arm/v8 takes v8 > v7 > v6 > v5;
 * - arm64/v8.x runs arm64/v8.(x-1) … v8; arm64/v9.x runs v9.(x-1) … v9, then v8.(x+5, at most 9) … v8;
 * - amd64/vN (a microarchitecture level) runs amd64/v(N-1) … plain amd64.
 * containerd's fallbacks to another architecture (arm64 to 32-bit arm, amd64 to 386) are left out on purpose: a
 * scan reports on the architecture asked for, or says that the index has none (listing what it has).
 * An entry is ranked by the first of these it equals after normalizing (os.version and os.features play no part);
 * entries equally good keep their index order, so the first of them is chosen.
 */
export function compatiblePlatforms(wanted: { os: string; architecture: string; variant?: string }): NormalPlatform[] {
  const want = normalizePlatform(wanted);
  const { os } = want;
  const out: NormalPlatform[] = [want];
  const version = /^v(\d+)(?:\.(\d+))?$/.exec(want.variant ?? '');
  const major = version ? Number(version[1]) : undefined;
  const minor = version?.[2] !== undefined ? Number(version[2]) : 0;
  switch (want.architecture) {
    case 'amd64':
      for (let v = (major ?? 1) - 1; v >= 1; v--)
        out.push(normalizePlatform({ os, architecture: 'amd64', variant: `v${v}` }));
      break;
    case 'arm':
      for (const platform of olderArm(os, major)) out.push(platform);
      break;
    case 'arm64': {
      if (major === undefined || major < 8) break;
      const arm64 = (v: string) => out.push(normalizePlatform({ os, architecture: 'arm64', variant: v }));
      let v8Minor = minor;
      if (major === 9) {
        for (let m = minor - 1; m >= 0; m--) arm64(m === 0 ? 'v9' : `v9.${m}`);
        // v9.0 branched from v8.5: v9.x runs what v8.(x+5) runs, up to v8.9.
        v8Minor = Math.min(minor + 5, 9);
        arm64(`v8.${v8Minor}`);
      }
      if (major === 8 || major === 9) for (let m = v8Minor - 1; m >= 0; m--) arm64(m === 0 ? 'v8' : `v8.${m}`);
      break;
    }
  }
  return out;
}

function olderArm(os: string, major: number | undefined): NormalPlatform[] {
  const out: NormalPlatform[] = [];
  for (let v = (major ?? 0) - 1; v >= 5; v--) out.push({ os, architecture: 'arm', variant: `v${v}` });
  return out;
}

function samePlatform(a: NormalPlatform, b: NormalPlatform): boolean {
  return a.os === b.os && a.architecture === b.architecture && a.variant === b.variant;
}

/** How good `entry` is for `wanted`: 0 is an exact match, higher is a lesser fallback; undefined does not run. */
export function platformRank(
  wanted: { os: string; architecture: string; variant?: string },
  entry: { os: string; architecture: string; variant?: string } | undefined,
): number | undefined {
  if (!entry) return undefined;
  const have = normalizePlatform(entry);
  const rank = compatiblePlatforms(wanted).findIndex((p) => samePlatform(p, have));
  return rank < 0 ? undefined : rank;
}

/** Whether an index entry's platform satisfies the wanted one, by the rule of `compatiblePlatforms`. */
export function platformMatches(
  wanted: { os: string; architecture: string; variant?: string },
  entry: { os: string; architecture: string; variant?: string } | undefined,
): boolean {
  return platformRank(wanted, entry) !== undefined;
}

/** The entries that satisfy the wanted platform, best first (equally good ones in their order). */
export function rankByPlatform<T extends { platform?: Platform }>(
  wanted: { os: string; architecture: string; variant?: string },
  entries: readonly T[],
): T[] {
  return entries
    .map((entry, i) => ({ entry, i, rank: platformRank(wanted, entry.platform) }))
    .filter((e): e is { entry: T; i: number; rank: number } => e.rank !== undefined)
    .sort((a, b) => a.rank - b.rank || a.i - b.i)
    .map((e) => e.entry);
}

/** The platforms an index offers, as written, for messages (buildkit's `unknown/unknown` attestations left out). */
export function offeredPlatforms(entries: readonly { platform?: Platform }[]): string[] {
  const names = entries
    .map((e) => e.platform)
    .filter((p): p is Platform => p !== undefined && p.os !== 'unknown')
    .map(formatPlatform);
  return [...new Set(names)];
}

/**
 * The entry of an index to read for `platform` (`os/arch[/variant]`, default linux/amd64), by the one rule of
 * `compatiblePlatforms`, whatever the index came from (an OCI layout, an archive, a registry). NOT_FOUND lists what
 * the index offers.
 */
export function choosePlatform<T extends { platform?: Platform }>(
  entries: readonly T[],
  platform: string | undefined,
  what: string,
): T {
  const wanted = parsePlatform(platform ?? DEFAULT_PLATFORM);
  const [best] = rankByPlatform(wanted, entries);
  if (best) return best;
  const offered = offeredPlatforms(entries);
  throw new LadingError(
    'NOT_FOUND',
    `${what} has no image for ${formatPlatform(wanted)} (available: ${offered.join(', ') || 'none'})`,
  );
}

/**
 * A single-platform image asked for with an explicit `--platform` it cannot serve is refused, as `docker pull
 * --platform` refuses it, rather than scanned as another platform. Same rule as choosing from an index, with
 * Docker's allowance for image configs, which often leave the variant out: a config without a variant passes when
 * its OS and architecture are the wanted ones. An image that does not say its platform passes.
 */
export function checkImagePlatform(asked: string | undefined, has: string | undefined, what: string): void {
  if (asked === undefined || has === undefined) return;
  const wanted = parsePlatform(asked);
  const [os = '', architecture = '', variant] = has.split('/');
  const config = variant ? { os, architecture, variant } : { os, architecture };
  if (platformMatches(wanted, config)) return;
  if (variant === undefined) {
    const a = normalizePlatform(wanted);
    const b = normalizePlatform(config);
    if (a.os === b.os && a.architecture === b.architecture) return;
  }
  throw new LadingError('NOT_FOUND', `${what} is an image for ${has} only, not ${asked}`);
}
