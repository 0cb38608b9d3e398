// `patch`: plan, and apply where it is safe, the package updates that fix an image's vulnerabilities, without a
// daemon and without running anything from the image (design: what Copacetic does through BuildKit, limited to
// packages that need no maintainer scripts, and saying so for the rest).
import { isLadingError, LadingError } from '../errors/lading-error.js';
import { parseJson } from '../image/config.js';
import type { Image } from '../image/image.js';
import { openImage } from '../image/open.js';
import { isCompressedFile } from '../image/sources/tar-archive.js';
import { describeSpec, parseTargetSpec } from '../image/target-spec.js';
import type { Finding } from '../model/finding.js';
import { checkLayoutDir } from '../oci/layout-write.js';
import { buildApkLayer } from './apply-apk.js';
import { buildDebLayer } from './apply-deb.js';
import { STATUS, STATUS_D } from './dpkg-db.js';
import { type ApkPlan, planAlpine } from './plan-apk.js';
import { type DebPlan, planDebian } from './plan-deb.js';
import { type RootView, readRootView } from './rootfs.js';
import { planRpm } from './rpm.js';
import type { FixableFinding, PatchDistro, PatchPlan, PatchResult } from './types.js';
import { PATCH_BASE_DIGEST, PATCH_PACKAGES, writePatchedImage } from './write-image.js';

export interface PatchOptions {
  /** The vulnerable packages and their fixed versions (a scan's findings, through `fixableFindings`). */
  findings: FixableFinding[];
  /** For Valid-Until checks and the new config's `created` unless given. The engine reads no clock. */
  now: Date;
  /** A repository URL used instead of the image's own (an internal mirror, a snapshot). */
  mirror?: string;
  /** Keyring files' bytes trusted instead of the image's own keys. */
  keyrings?: Buffer[];
  /** Largest package accepted, compressed and per member uncompressed (default 512 MiB). */
  maxPackageBytes?: number;
  platform?: string;
  insecureRegistries?: string[];
  dockerConfigPath?: string;
  offline?: boolean;
  signal?: AbortSignal;
}

export interface ApplyPatchOptions extends PatchOptions {
  /** The OCI image layout to write into (created, or added to). */
  outDir: string;
  /** Sets `org.opencontainers.image.ref.name` on the new manifest. */
  tag?: string;
  /** The new config's and history entry's `created` (RFC 3339). */
  created?: string;
}

const DEFAULT_MAX_PACKAGE = 512 * 1024 ** 2;

/** The findings a patch can act on: OS packages (deb, apk, rpm) with a fixed version. */
export function fixableFindings(findings: Finding[]): FixableFinding[] {
  return findings
    .filter((f) => ['deb', 'apk', 'rpm'].includes(f.package.type) && f.fixedVersions.length > 0 && !f.suppressed)
    .map((f) => ({ id: f.id, package: f.package.name, version: f.package.version, fixedVersions: f.fixedVersions }));
}

function distroOf(view: RootView): PatchDistro | undefined {
  if (view.get(STATUS) || view.children(STATUS_D).length > 0) return 'debian';
  if (view.contentFollowing('lib/apk/db/installed')) return 'alpine';
  if (view.get('var/lib/rpm') || view.get('usr/lib/sysimage/rpm')) return 'rpm';
  return undefined;
}

const DEB_ARCH: Record<string, string> = {
  amd64: 'amd64',
  arm64: 'arm64',
  '386': 'i386',
  ppc64le: 'ppc64el',
  s390x: 's390x',
  riscv64: 'riscv64',
  mips64le: 'mips64el',
};

function debArchitecture(image: Image): string {
  const config = image.rawConfig ? parseJson(image.rawConfig, 'config') : {};
  const arch = String(config['architecture'] ?? 'amd64');
  if (arch === 'arm') return config['variant'] === 'v5' || config['variant'] === 'v6' ? 'armel' : 'armhf';
  return DEB_ARCH[arch] ?? arch;
}

interface Opened {
  image: Image;
  view: RootView;
  distro: PatchDistro;
  ref: string;
}

async function withImage<T>(spec: string, options: PatchOptions, body: (o: Opened) => Promise<T>): Promise<T> {
  const parsed = await parseTargetSpec(spec);
  const ref = describeSpec(parsed);
  if (parsed.kind === 'dir' || parsed.kind === 'image-archive') {
    throw new LadingError('USAGE', `${ref}: patch reads an image (docker-archive:, oci:, oci-archive: or a registry)`);
  }
  if ((parsed.kind === 'docker-archive' || parsed.kind === 'oci-archive') && (await isCompressedFile(parsed.path))) {
    throw new LadingError('USAGE', `${ref}: patch reads the layers twice; decompress the archive first`);
  }
  if (options.offline) {
    throw new LadingError('USAGE', 'patching downloads packages, which the offline option forbids', {
      option: 'offline',
    });
  }
  const image = await openImage(parsed, ref, options);
  try {
    const view = await readRootView(image);
    const distro = distroOf(view);
    if (!distro) throw new LadingError('BAD_INPUT', 'the image has no package database (dpkg, apk or rpm) to patch');
    return await body({ image, view, distro, ref });
  } catch (err) {
    if (isLadingError(err) && (err.code === 'ABORTED' || err.message.includes(ref))) throw err;
    if (isLadingError(err))
      throw new LadingError(err.code, `${ref}: ${err.message}`, {
        cause: err,
        ...(err.option ? { option: err.option } : {}),
      });
    throw err;
  } finally {
    await image.close();
  }
}

type Planned =
  | { plan: PatchPlan; deb: DebPlan; apk?: undefined }
  | { plan: PatchPlan; apk: ApkPlan; deb?: undefined }
  | { plan: PatchPlan; deb?: undefined; apk?: undefined };

async function planOpened(o: Opened, options: PatchOptions): Promise<Planned> {
  const target: PatchPlan['target'] = { ref: o.image.target.ref };
  if (o.image.target.digest) target.digest = o.image.target.digest;
  if (o.distro === 'debian') {
    const planOptions: Parameters<typeof planDebian>[2] = {
      now: options.now,
      architecture: debArchitecture(o.image),
      maxPackageBytes: options.maxPackageBytes ?? DEFAULT_MAX_PACKAGE,
    };
    if (options.mirror) planOptions.mirror = options.mirror;
    if (options.keyrings) planOptions.keyrings = options.keyrings;
    if (options.signal) planOptions.signal = options.signal;
    const deb = await planDebian(o.view, options.findings, planOptions);
    const plan: PatchPlan = { target, distro: 'debian', repositories: deb.repositories, entries: deb.entries };
    return { plan, deb };
  }
  if (o.distro === 'alpine') {
    const planOptions: Parameters<typeof planAlpine>[2] = {
      architecture: apkArchitecture(o.image, o.view),
      maxPackageBytes: options.maxPackageBytes ?? DEFAULT_MAX_PACKAGE,
    };
    if (options.mirror) planOptions.mirror = options.mirror;
    if (options.keyrings) planOptions.keyrings = options.keyrings;
    if (options.signal) planOptions.signal = options.signal;
    const apk = await planAlpine(o.view, options.findings, planOptions);
    const plan: PatchPlan = { target, distro: 'alpine', repositories: apk.repositories, entries: apk.entries };
    return { plan, apk };
  }
  const planOptions: Parameters<typeof planRpm>[2] = {
    architecture: rpmArchitecture(o.image),
    maxPackageBytes: options.maxPackageBytes ?? DEFAULT_MAX_PACKAGE,
  };
  if (options.mirror) planOptions.mirror = options.mirror;
  if (options.keyrings) planOptions.keyrings = options.keyrings;
  if (options.signal) planOptions.signal = options.signal;
  const rpm = await planRpm(o.view, options.findings, planOptions);
  return { plan: { target, distro: 'rpm', repositories: rpm.repositories, entries: rpm.entries } };
}

function rpmArchitecture(image: Image): string {
  const config = image.rawConfig ? parseJson(image.rawConfig, 'config') : {};
  const arch = String(config['architecture'] ?? 'amd64');
  return { amd64: 'x86_64', arm64: 'aarch64', ppc64le: 'ppc64le', s390x: 's390x' }[arch] ?? arch;
}

const APK_ARCH: Record<string, string> = {
  amd64: 'x86_64',
  arm64: 'aarch64',
  '386': 'x86',
  ppc64le: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
};

/** apk's architecture name: the image's `etc/apk/arch`, else the config's platform. */
function apkArchitecture(image: Image, view: RootView): string {
  const file = view.content('etc/apk/arch')?.toString('utf8').trim();
  if (file) return file;
  const config = image.rawConfig ? parseJson(image.rawConfig, 'config') : {};
  const arch = String(config['architecture'] ?? 'amd64');
  if (arch === 'arm') return config['variant'] === 'v6' ? 'armhf' : 'armv7';
  return APK_ARCH[arch] ?? arch;
}

/** What a patch would do, per vulnerable source package, with a verdict for each. Downloads and verifies indexes. */
export async function planPatch(spec: string, options: PatchOptions): Promise<PatchPlan> {
  return withImage(spec, options, async (o) => (await planOpened(o, options)).plan);
}

/**
 * Applies the entries whose verdict is `apply` as one new layer and writes the image into an OCI layout. Every
 * package is downloaded and verified before anything is written; nothing applicable is a GATE_FAILED error ("no").
 */
export async function applyPatch(spec: string, options: ApplyPatchOptions): Promise<PatchResult> {
  await checkLayoutDir(options.outDir);
  return withImage(spec, options, async (o) => {
    const planned = await planOpened(o, options);
    const { plan } = planned;
    if (!planned.deb && !planned.apk) {
      throw new LadingError('USAGE', `${o.distro} images get the plan only: their package database is not rewritten`);
    }
    const applicable = plan.entries.filter((e) => e.verdict === 'apply');
    if (applicable.length === 0) {
      const why =
        plan.entries.length === 0
          ? 'no finding has a fixed version in an installed package'
          : plan.entries.map((e) => `${e.source}: ${e.verdict}`).join(', ');
      throw new LadingError('GATE_FAILED', `nothing to patch without maintainer scripts (${why})`);
    }
    const created = options.created ?? options.now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const mtime = Math.floor(new Date(created).getTime() / 1000);
    const layerOptions = { maxPackageBytes: options.maxPackageBytes ?? DEFAULT_MAX_PACKAGE, mtime };
    const build = planned.deb
      ? await buildDebLayer(o.view, plan.entries, planned.deb.downloads, planned.deb.installed, layerOptions)
      : buildApkLayer(
          o.view,
          plan.entries,
          (planned.apk as ApkPlan).downloads,
          (planned.apk as ApkPlan).installed,
          layerOptions,
        );
    const packages = build.patched.map((p) => ({ name: p.name, from: p.from, to: p.to, sha256: p.sha256 }));
    const annotations: Record<string, string> = {
      [PATCH_PACKAGES]: JSON.stringify(packages),
      'org.opencontainers.image.base.name': o.image.target.ref,
    };
    const base = o.image.target.digest ?? o.image.target.imageId;
    if (base) {
      annotations[PATCH_BASE_DIGEST] = base;
      if (o.image.target.digest) annotations['org.opencontainers.image.base.digest'] = o.image.target.digest;
    }
    const written = await writePatchedImage(o.image, build.items, {
      outDir: options.outDir,
      ...(options.tag ? { tag: options.tag } : {}),
      created,
      comment: `patched ${build.patched.map((p) => `${p.name} ${p.from} → ${p.to}`).join(', ')}`,
      annotations,
    });
    return {
      plan,
      ...written,
      patched: build.patched,
      keptConffiles: build.keptConffiles,
      resolvedDependencies: build.patched.map((p) => ({
        uri: p.url,
        digest: { sha256: p.sha256 },
        name: `${p.name}_${p.to}_${p.architecture}`,
      })),
    };
  });
}
