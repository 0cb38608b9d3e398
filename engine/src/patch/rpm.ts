// RPM images: plan only (writing rpmdb tables consistently is the hard part, and out of scope). The chain checked:
// repomd.xml (its detached signature when the repository sets repo_gpgcheck) → primary.xml (SHA-256 from repomd) →
// each candidate package (SHA-256 from primary) → its header's OpenPGP signature by the repository's gpgkey when
// gpgcheck is on. Scripts and triggers come from the signed header.
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import { preferredPaths, readerFor } from '../catalog/os/rpm/databases.js';
import { RpmHeader, readPackage } from '../catalog/os/rpm/header.js';
import { parseSourceRpm } from '../catalog/os/rpm/source-rpm.js';
import { LadingError } from '../errors/lading-error.js';
import { fetchBytes } from '../http/download.js';
import { compareVersions } from '../versions/index.js';
import { type PublicKey, readKeyring, verifyDetached } from './openpgp.js';
import type { RootView } from './rootfs.js';
import type { FixableFinding, PatchBinary, PatchPlanEntry } from './types.js';

const SCRIPT_TAGS: [number, string][] = [
  [1023, '%pre'],
  [1024, '%post'],
  [1025, '%preun'],
  [1026, '%postun'],
  [1151, '%pretrans'],
  [1152, '%posttrans'],
  [1065, '%trigger'],
  [5066, '%filetrigger'],
  [5076, '%transfiletrigger'],
];
/** Signature header tags holding an OpenPGP signature over the main header (RSA, and v4.20's OPENPGP). */
const HEADER_SIGNATURE_TAGS = [268, 278];
const MAX_METADATA = 256 * 1024 ** 2;

interface RpmRepo {
  id: string;
  baseurl: string;
  gpgkeys: string[];
  gpgcheck: boolean;
  repoGpgcheck: boolean;
}

export interface InstalledRpm {
  name: string;
  evr: string;
  arch: string;
  source: string;
}

interface RpmCandidate {
  name: string;
  evr: string;
  arch: string;
  source: string;
  url: string;
  sha256: string;
  requires: { name: string; flags?: string; evr?: string }[];
  provides: string[];
  repo: RpmRepo;
}

const cmp = (a: string, b: string) => compareVersions('Red Hat', a, b);

function evr(epoch: string | number | undefined, ver: string, rel: string): string {
  return `${epoch && String(epoch) !== '0' ? `${epoch}:` : ''}${ver}-${rel}`;
}

export function installedRpms(view: RootView): InstalledRpm[] {
  for (const path of preferredPaths()) {
    const content = view.content(path.slice(1));
    const read = readerFor(path);
    if (!content || !read) continue;
    const { blobs } = read(content, view.content(`${path.slice(1)}-wal`));
    return blobs.map((blob) => {
      const p = readPackage(blob, false);
      return {
        name: p.name,
        evr: evr(p.epoch, p.version, p.release),
        arch: p.arch ?? 'noarch',
        source: (p.sourceRpm && parseSourceRpm(p.sourceRpm)?.name) || p.name,
      };
    });
  }
  return [];
}

/** `etc/yum.repos.d/*.repo` sections that are enabled and have a baseurl ($basearch, $releasever substituted). */
function rpmRepos(view: RootView, vars: Record<string, string>, mirror?: string): RpmRepo[] {
  const repos: RpmRepo[] = [];
  for (const path of view.children('etc/yum.repos.d')) {
    if (!path.endsWith('.repo')) continue;
    let current: Record<string, string> | undefined;
    const sections: Record<string, string>[] = [];
    for (const raw of (view.content(path)?.toString('utf8') ?? '').split('\n')) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
      const section = /^\[(.+)\]$/.exec(line);
      if (section) {
        current = { id: section[1] as string };
        sections.push(current);
        continue;
      }
      const eq = line.indexOf('=');
      if (current && eq > 0) current[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    }
    const expand = (s: string) => s.replace(/\$(\w+)/g, (m, name: string) => vars[name] ?? m);
    for (const s of sections) {
      if (s['enabled'] === '0' || !s['baseurl']) continue;
      const baseurl = expand((s['baseurl'].split(/\s+/)[0] ?? '').replace(/\/+$/, ''));
      repos.push({
        id: s['id'] as string,
        baseurl: mirror ? `${mirror.replace(/\/+$/, '')}/${s['id']}` : baseurl,
        gpgkeys: (s['gpgkey'] ?? '')
          .split(/[\s,]+/)
          .filter((k) => k !== '')
          .map(expand),
        gpgcheck: s['gpgcheck'] !== '0',
        repoGpgcheck: s['repo_gpgcheck'] === '1',
      });
    }
  }
  return repos;
}

function keysOf(view: RootView, repo: RpmRepo, given: Buffer[] | undefined): PublicKey[] {
  if (given) return given.flatMap((k, i) => readKeyring(k, `keyring ${i + 1}`));
  const keys: PublicKey[] = [];
  for (const url of repo.gpgkeys) {
    if (!url.startsWith('file:///')) continue;
    const path = view.resolveParent(url.slice('file:///'.length));
    const bytes = view.content(path);
    if (bytes) for (const key of readKeyring(bytes, `/${path}`)) keys.push(key);
  }
  return keys;
}

const attr = (tag: string, name: string) => new RegExp(`${name}="([^"]*)"`).exec(tag)?.[1];
const unescapeXml = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

/** The `<package>` records of primary.xml that patching reads (a regular, machine-written format). */
function parsePrimary(xml: string, repo: RpmRepo): RpmCandidate[] {
  const out: RpmCandidate[] = [];
  for (const m of xml.matchAll(/<package type="rpm">([\s\S]*?)<\/package>/g)) {
    const body = m[1] as string;
    const name = /<name>([^<]*)<\/name>/.exec(body)?.[1];
    const arch = /<arch>([^<]*)<\/arch>/.exec(body)?.[1];
    const version = /<version [^>]*\/>/.exec(body)?.[0];
    const checksum = /<checksum type="sha256"[^>]*>([0-9a-f]{64})<\/checksum>/.exec(body)?.[1];
    const href = /<location [^>]*href="([^"]+)"/.exec(body)?.[1];
    if (!name || !arch || !version || !checksum || !href) continue;
    const sourceRpm = /<rpm:sourcerpm>([^<]*)<\/rpm:sourcerpm>/.exec(body)?.[1];
    const entries = (section: string) =>
      [
        ...(new RegExp(`<rpm:${section}>([\\s\\S]*?)</rpm:${section}>`).exec(body)?.[1] ?? '').matchAll(
          /<rpm:entry [^>]*\/>/g,
        ),
      ].map((e) => e[0]);
    out.push({
      name: unescapeXml(name),
      arch,
      evr: evr(attr(version, 'epoch'), attr(version, 'ver') ?? '', attr(version, 'rel') ?? ''),
      source: (sourceRpm && parseSourceRpm(sourceRpm)?.name) || name,
      url: `${repo.baseurl}/${href}`,
      sha256: checksum,
      requires: entries('requires').map((e) => {
        const req: RpmCandidate['requires'][number] = { name: unescapeXml(attr(e, 'name') ?? '') };
        const flags = attr(e, 'flags');
        if (flags) {
          req.flags = flags;
          req.evr = evr(attr(e, 'epoch'), attr(e, 'ver') ?? '', attr(e, 'rel') ?? '').replace(/-$/, '');
        }
        return req;
      }),
      provides: entries('provides').map((e) => unescapeXml(attr(e, 'name') ?? '')),
      repo,
    });
  }
  return out;
}

async function fetchRequired(url: string, max: number, signal?: AbortSignal): Promise<Buffer> {
  const body = await fetchBytes(url, max, signal ? { signal } : {});
  if (!body) throw new LadingError('NOT_FOUND', `${url}: not found (HTTP 404)`);
  return body;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function repoCandidates(
  view: RootView,
  repo: RpmRepo,
  keys: PublicKey[],
  signal?: AbortSignal,
): Promise<RpmCandidate[]> {
  const repomdUrl = `${repo.baseurl}/repodata/repomd.xml`;
  const repomd = await fetchRequired(repomdUrl, 16 * 1024 ** 2, signal);
  if (repo.repoGpgcheck) {
    const signature = await fetchRequired(`${repomdUrl}.asc`, 1024 ** 2, signal);
    verifyDetached(repomd, signature, keys, repomdUrl);
  }
  const primary = /<data type="primary">([\s\S]*?)<\/data>/.exec(repomd.toString('utf8'))?.[1];
  const checksum = primary && /<checksum type="sha256">([0-9a-f]{64})<\/checksum>/.exec(primary)?.[1];
  const href = primary && /<location [^>]*href="([^"]+)"/.exec(primary)?.[1];
  if (!checksum || !href) throw new LadingError('BAD_INPUT', `${repomdUrl}: no primary metadata with a SHA-256`);
  const url = `${repo.baseurl}/${href}`;
  const body = await fetchRequired(url, MAX_METADATA, signal);
  if (sha256(body) !== checksum)
    throw new LadingError('DIGEST_MISMATCH', `${url}: SHA-256 differs from the one repomd.xml lists`);
  let xml: Buffer;
  try {
    if (href.endsWith('.gz')) xml = gunzipSync(body, { maxOutputLength: MAX_METADATA });
    else if (href.endsWith('.zst')) xml = Buffer.from(zstdDecompress(body));
    else if (href.endsWith('.xml')) xml = body;
    else throw new LadingError('BAD_INPUT', `${url}: a compression Lading does not read yet`);
  } catch (err) {
    if (err instanceof LadingError) throw err;
    throw new LadingError('BAD_INPUT', `${url}: corrupt or too large`, { cause: err });
  }
  void view;
  return parsePrimary(xml.toString('utf8'), repo);
}

/** Scripts a downloaded `.rpm` carries, after its SHA-256 and (with gpgcheck) its header signature are checked. */
function rpmScripts(file: Buffer, candidate: RpmCandidate, keys: PublicKey[]): string[] {
  const what = candidate.url;
  if (sha256(file) !== candidate.sha256) {
    throw new LadingError('DIGEST_MISMATCH', `${what}: SHA-256 differs from the one primary.xml lists`);
  }
  const header = (at: number) => {
    if (file.readUInt32BE(at) !== 0x8eade801) throw new LadingError('BAD_INPUT', `${what}: not an rpm header`);
    const il = file.readUInt32BE(at + 8);
    const dl = file.readUInt32BE(at + 12);
    const end = at + 16 + il * 16 + dl;
    if (end > file.length) throw new LadingError('BAD_INPUT', `${what}: truncated rpm header`);
    return { blob: file.subarray(at + 8, end), whole: file.subarray(at, end), end };
  };
  if (file.length < 112 || file.readUInt32BE(0) !== 0xedabeedb)
    throw new LadingError('BAD_INPUT', `${what}: not an rpm`);
  const signature = header(96);
  const main = header(96 + Math.ceil((signature.end - 96) / 8) * 8);
  if (candidate.repo.gpgcheck) {
    const sigHeader = new RpmHeader(signature.blob);
    const tag = HEADER_SIGNATURE_TAGS.find((t) => sigHeader.has(t));
    if (tag === undefined)
      throw new LadingError('DIGEST_MISMATCH', `${what}: the package header is not signed (gpgcheck is on)`);
    verifyDetached(main.whole, rawTag(signature.blob, tag), keys, `${what} header`);
  }
  const h = new RpmHeader(main.blob);
  return SCRIPT_TAGS.filter(([tag]) => h.has(tag)).map(([, name]) => name);
}

/** A BIN tag's bytes from a header blob (il, dl, index, data). */
function rawTag(blob: Buffer, tag: number): Buffer {
  const il = blob.readUInt32BE(0);
  const dataStart = 8 + il * 16;
  for (let i = 0; i < il; i++) {
    const at = 8 + i * 16;
    if (blob.readUInt32BE(at) !== tag) continue;
    const offset = blob.readUInt32BE(at + 8);
    const count = blob.readUInt32BE(at + 12);
    return blob.subarray(dataStart + offset, dataStart + offset + count);
  }
  return Buffer.alloc(0);
}

export interface RpmPlanOptions {
  mirror?: string;
  keyrings?: Buffer[];
  architecture: string;
  maxPackageBytes: number;
  signal?: AbortSignal;
}

export async function planRpm(
  view: RootView,
  findings: FixableFinding[],
  options: RpmPlanOptions,
): Promise<{ repositories: string[]; entries: PatchPlanEntry[] }> {
  const installed = installedRpms(view);
  if (installed.length === 0) throw new LadingError('BAD_INPUT', 'the image has no rpm database to read');
  const byName = new Map(installed.map((p) => [p.name, p]));
  const wanted = new Map<string, { fixed: string; ids: Set<string> }>();
  for (const finding of findings) {
    const pkg = byName.get(finding.package) ?? installed.find((p) => p.source === finding.package);
    if (!pkg) continue;
    const fixed = [...finding.fixedVersions].sort(cmp).find((v) => cmp(v, pkg.evr) > 0);
    if (!fixed) continue;
    const entry = wanted.get(pkg.source) ?? { fixed, ids: new Set<string>() };
    if (cmp(fixed, entry.fixed) > 0) entry.fixed = fixed;
    entry.ids.add(finding.id);
    wanted.set(pkg.source, entry);
  }
  const osRelease = (view.content('etc/os-release') ?? view.content('usr/lib/os-release'))?.toString('utf8') ?? '';
  const releasever = /^VERSION_ID="?([^"\n]+)"?$/m.exec(osRelease)?.[1] ?? '';
  const vars = {
    basearch: options.architecture,
    arch: options.architecture,
    releasever: releasever.split('.')[0] ?? '',
  };
  const repos = rpmRepos(view, vars, options.mirror);
  const repositories = repos.map((r) => `${r.baseurl} (${r.id})`);
  if (wanted.size === 0) return { repositories, entries: [] };
  if (repos.length === 0) {
    throw new LadingError(
      'BAD_INPUT',
      'the image configures no enabled rpm repositories with a baseurl (etc/yum.repos.d)',
    );
  }
  const candidates: RpmCandidate[] = [];
  const keysByRepo = new Map<string, PublicKey[]>();
  for (const repo of repos) {
    const keys = keysOf(view, repo, options.keyrings);
    if ((repo.gpgcheck || repo.repoGpgcheck) && keys.length === 0) {
      throw new LadingError(
        'DIGEST_MISMATCH',
        `repository ${repo.id}: no gpgkey in the image to verify it with; name one with the keyrings option`,
        { option: 'keyrings' },
      );
    }
    keysByRepo.set(repo.id, keys);
    for (const candidate of await repoCandidates(view, repo, keys, options.signal)) candidates.push(candidate);
  }
  const best = (pkg: InstalledRpm, atLeast: string) =>
    candidates
      .filter((c) => c.name === pkg.name && (c.arch === pkg.arch || c.arch === 'noarch') && cmp(c.evr, atLeast) >= 0)
      .sort((a, b) => cmp(b.evr, a.evr))[0];
  const entries: PatchPlanEntry[] = [];
  for (const [source, { fixed, ids }] of [...wanted].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const entry: PatchPlanEntry = {
      source,
      fixedVersion: fixed,
      findings: [...ids].sort(),
      binaries: [],
      scripts: [],
      conffiles: [],
      triggers: [],
      unsatisfied: [],
      verdict: 'apply',
    };
    entries.push(entry);
    const chosen = installed.filter((p) => p.source === source).map((pkg) => ({ pkg, candidate: best(pkg, fixed) }));
    for (const { pkg, candidate } of chosen) {
      const binary: PatchBinary = { name: pkg.name, architecture: pkg.arch, installed: pkg.evr };
      if (candidate) {
        binary.candidate = candidate.evr;
        binary.url = candidate.url;
        binary.sha256 = candidate.sha256;
      }
      entry.binaries.push(binary);
    }
    const missing = chosen.filter((c) => !c.candidate).map((c) => c.pkg.name);
    const top = chosen
      .map((c) => c.candidate?.evr)
      .filter((v): v is string => v !== undefined)
      .sort(cmp)
      .pop();
    if (top) entry.candidateVersion = top;
    if (missing.length > 0) {
      entry.verdict = 'candidate-not-found';
      entry.reason = `no version ≥ ${fixed} of ${missing.join(', ')} in the repositories`;
      continue;
    }
    // Requirements on package names, checked against the image as it will be (file and rpmlib() ones are not).
    const versions = new Map(installed.map((p) => [p.name, p.evr]));
    const provided = new Set(
      candidates.filter((c) => chosen.some((x) => x.candidate === c)).flatMap((c) => c.provides),
    );
    for (const { candidate } of chosen) if (candidate) versions.set(candidate.name, candidate.evr);
    for (const { candidate } of chosen) {
      for (const req of candidate?.requires ?? []) {
        if (req.name.startsWith('/') || req.name.startsWith('rpmlib(') || req.name.includes('(')) continue;
        const have = versions.get(req.name);
        const holds = have !== undefined && (!req.flags || !req.evr || rpmFlagHolds(cmp(have, req.evr), req.flags));
        if (!holds && !(have === undefined && provided.has(req.name))) {
          entry.unsatisfied.push(req.flags ? `${req.name} ${req.flags} ${req.evr}` : req.name);
        }
      }
    }
    if (entry.unsatisfied.length > 0) {
      entry.verdict = 'unsatisfied-deps';
      entry.reason = `needs ${entry.unsatisfied.join(', ')}, which the image does not have at that version`;
    }
    for (const { pkg, candidate } of chosen) {
      if (!candidate) continue;
      const file = await fetchRequired(candidate.url, options.maxPackageBytes, options.signal);
      const scripts = rpmScripts(file, candidate, keysByRepo.get(candidate.repo.id) ?? []);
      for (const s of scripts) (s.includes('trigger') ? entry.triggers : entry.scripts).push(`${pkg.name}: ${s}`);
    }
    if (entry.verdict === 'apply' && (entry.scripts.length > 0 || entry.triggers.length > 0)) {
      entry.verdict = 'needs-scripts';
      entry.reason = `scriptlets (${[...entry.scripts, ...entry.triggers].join(', ')}) only rpm can run`;
    }
  }
  return { repositories, entries };
}

function rpmFlagHolds(c: number, flags: string): boolean {
  switch (flags) {
    case 'EQ':
      return c === 0;
    case 'GE':
      return c >= 0;
    case 'GT':
      return c > 0;
    case 'LE':
      return c <= 0;
    case 'LT':
      return c < 0;
    default:
      return true;
  }
}
