// The Alpine plan: per vulnerable origin (source) package, every installed binary of it updated together from the
// image's (verified) repositories; dependencies checked against the image as it will be.
import { LadingError } from '../errors/lading-error.js';
import { fetchBytes } from '../http/download.js';
import { compareApk } from '../versions/apk.js';
import {
  type ApkBlock,
  type ApkCandidate,
  type ApkPackage,
  apkCandidates,
  apkField,
  parseApkBlocks,
  readApk,
} from './apk.js';
import type { Relation } from './deps.js';
import { newPlanEntry, resolveDependencies } from './plan-dependencies.js';
import type { RootView } from './rootfs.js';
import type { FixableFinding, PatchBinary, PatchPlanEntry } from './types.js';

export const APK_INSTALLED = 'lib/apk/db/installed';

export interface InstalledApk {
  name: string;
  version: string;
  architecture: string;
  origin: string;
  block: ApkBlock;
}

export interface ApkPlanOptions {
  mirror?: string;
  keyrings?: Buffer[];
  architecture: string;
  maxPackageBytes: number;
  signal?: AbortSignal;
}

export interface ApkPlan {
  repositories: string[];
  entries: PatchPlanEntry[];
  downloads: Map<string, { bytes: Buffer; apk: ApkPackage; candidate: ApkCandidate }>;
  installed: InstalledApk[];
}

export function installedApks(view: RootView): InstalledApk[] {
  const text = view.contentFollowing(APK_INSTALLED)?.toString('utf8') ?? '';
  const out: InstalledApk[] = [];
  for (const block of parseApkBlocks(text)) {
    const name = apkField(block, 'P');
    const version = apkField(block, 'V');
    if (!name || !version) continue;
    out.push({ name, version, architecture: apkField(block, 'A') ?? '', origin: apkField(block, 'o') ?? name, block });
  }
  return out;
}

/** `name`, `name=1.2-r0`, `name>=1.2`, `so:libc.musl-x86_64.so.1`; `!name` conflicts are not requirements. */
function parseDependency(dep: string): { name: string; op?: string; version?: string } | undefined {
  if (dep.startsWith('!')) return undefined;
  const m = /^([^<>=~]+)(?:(<=|>=|<|>|=|~)(.+))?$/.exec(dep);
  if (!m) return undefined;
  return m[2] && m[3] ? { name: m[1] as string, op: m[2], version: m[3] } : { name: m[1] as string };
}

function versionHolds(have: string, op: string | undefined, want: string | undefined): boolean {
  if (!op || !want) return true;
  const c = compareApk(have, want, op === '~');
  if (op === '=' || op === '~') return c === 0;
  if (op === '>=') return c >= 0;
  if (op === '<=') return c <= 0;
  if (op === '>') return c > 0;
  return c < 0;
}

export async function planAlpine(
  view: RootView,
  findings: FixableFinding[],
  options: ApkPlanOptions,
): Promise<ApkPlan> {
  const installed = installedApks(view);
  if (installed.length === 0) throw new LadingError('BAD_INPUT', `the image has no apk database (/${APK_INSTALLED})`);
  const byName = new Map(installed.map((p) => [p.name, p]));
  const wanted = new Map<string, { fixed: string; ids: Set<string> }>();
  for (const finding of findings) {
    const pkg = byName.get(finding.package);
    if (!pkg) continue;
    const fixed = [...finding.fixedVersions]
      .sort((a, b) => compareApk(a, b))
      .find((v) => compareApk(v, pkg.version) > 0);
    if (!fixed) continue;
    const entry = wanted.get(pkg.origin) ?? { fixed, ids: new Set<string>() };
    if (compareApk(fixed, entry.fixed) > 0) entry.fixed = fixed;
    entry.ids.add(finding.id);
    wanted.set(pkg.origin, entry);
  }
  const downloads: ApkPlan['downloads'] = new Map();
  if (wanted.size === 0) return { repositories: [], entries: [], downloads, installed };
  const indexOptions: Parameters<typeof apkCandidates>[1] = { architecture: options.architecture };
  if (options.mirror) indexOptions.mirror = options.mirror;
  if (options.keyrings) indexOptions.keyrings = options.keyrings;
  if (options.signal) indexOptions.signal = options.signal;
  const { repositories, candidates } = await apkCandidates(view, indexOptions);
  const best = (name: string, atLeast: string) =>
    candidates
      .filter((c) => c.name === name && compareApk(c.version, atLeast) >= 0)
      .sort((a, b) => compareApk(b.version, a.version))[0];

  const entries: PatchPlanEntry[] = [];
  for (const [origin, { fixed, ids }] of [...wanted].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const entry = newPlanEntry(origin, fixed, ids);
    entries.push(entry);
    const chosen = new Map<string, { pkg: InstalledApk; candidate: ApkCandidate | undefined; dependency: boolean }>();
    for (const pkg of installed.filter((p) => p.origin === origin)) {
      chosen.set(pkg.name, { pkg, candidate: best(pkg.name, fixed), dependency: false });
    }
    const missing = [...chosen.values()].filter((c) => !c.candidate).map((c) => c.pkg.name);
    if (missing.length > 0) {
      entry.verdict = 'candidate-not-found';
      entry.reason = `no version ≥ ${fixed} of ${missing.join(', ')} in the repositories`;
    } else {
      resolve(chosen, installed, best, entry);
    }
    for (const { pkg, candidate, dependency } of chosen.values()) {
      const binary: PatchBinary = { name: pkg.name, architecture: pkg.architecture, installed: pkg.version };
      if (dependency) binary.dependency = true;
      if (candidate) {
        binary.candidate = candidate.version;
        binary.url = candidate.url;
      }
      entry.binaries.push(binary);
    }
    const top = entry.binaries
      .filter((b) => !b.dependency && b.candidate)
      .map((b) => b.candidate as string)
      .sort((a, b) => compareApk(a, b))
      .pop();
    if (top) entry.candidateVersion = top;
    if (entry.verdict === 'candidate-not-found') continue;
    for (const { pkg, candidate } of chosen.values()) {
      if (!candidate) continue;
      let got = downloads.get(candidate.url);
      if (!got) {
        const bytes = await fetchBytes(
          candidate.url,
          options.maxPackageBytes,
          options.signal ? { signal: options.signal } : {},
        );
        if (!bytes) throw new LadingError('NOT_FOUND', `${candidate.url}: not found (HTTP 404)`);
        got = {
          bytes,
          apk: readApk(bytes, candidate.checksum, candidate.url, options.maxPackageBytes, false),
          candidate,
        };
        downloads.set(candidate.url, got);
      }
      const binary = entry.binaries.find((b) => b.name === pkg.name);
      if (binary) binary.sha256 = got.apk.sha256;
      for (const s of got.apk.scripts) entry.scripts.push(`${pkg.name}: ${s}`);
      for (const t of got.apk.triggers) entry.triggers.push(`${pkg.name}: ${t}`);
      if (entry.verdict === 'apply' && (got.apk.scripts.length > 0 || got.apk.triggers.length > 0)) {
        entry.verdict = 'needs-scripts';
        entry.reason = `${pkg.name} ${candidate.version} has scripts (${[...got.apk.scripts, ...got.apk.triggers.map(() => 'trigger')].join(', ')}), which only apk can run`;
      }
    }
  }
  return { repositories, entries, downloads, installed };
}

/** apk's rules for the shared dependency fixed point: `D:` requirements, `p:` provides, apk version order. */
function resolve(
  chosen: Map<string, { pkg: InstalledApk; candidate: ApkCandidate | undefined; dependency: boolean }>,
  installed: InstalledApk[],
  best: (name: string, atLeast: string) => ApkCandidate | undefined,
  entry: PatchPlanEntry,
): void {
  const providesIn = (block: ApkBlock): Relation[] =>
    (apkField(block, 'p') ?? '')
      .split(' ')
      .filter((x) => x)
      .map((p) => {
        const [name, version] = p.split('=') as [string, string | undefined];
        return version === undefined ? { name } : { name, version };
      });
  resolveDependencies(
    chosen,
    installed,
    {
      nameOf: (p) => p.name,
      versionOf: (p) => p.version,
      providesOf: (p) => providesIn(p.block),
      candidateProvides: (c) => providesIn(c.block),
      requirementsOf: (c) =>
        (apkField(c.block, 'D') ?? '')
          .split(' ')
          .filter((x) => x)
          .flatMap((raw) => {
            const dep = parseDependency(raw);
            return dep ? [{ alternatives: [dep], text: raw }] : [];
          }),
      holds: (d, versions, provides) => {
        const have = versions.get(d.name);
        if (have !== undefined && versionHolds(have, d.op, d.version)) return true;
        return (provides.get(d.name) ?? []).some((v) => !d.op || (v !== '' && versionHolds(v, d.op, d.version)));
      },
      upgradeFor: (old, dep) => {
        const c = best(old.name, dep.version as string);
        return c && versionHolds(c.version, dep.op, dep.version) ? c : undefined;
      },
      choose: (old, candidate) => chosen.set(old.name, { pkg: old, candidate, dependency: true }),
    },
    entry,
  );
}
