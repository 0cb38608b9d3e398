import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { LadingError } from '../errors/lading-error.js';
import type { LayoutSelector } from './sources/oci-layout.js';
import { isCompressedFile, openTarArchive } from './sources/tar-archive.js';

/** A TARGET argument (docs/cli.md, "Targets"), before anything is opened. `sbom:` is read elsewhere. */
export type TargetSpec =
  | { kind: 'docker-archive'; path: string; reference?: string }
  | { kind: 'oci'; path: string; selector: LayoutSelector }
  | { kind: 'oci-archive'; path: string; selector: LayoutSelector }
  | { kind: 'dir'; path: string }
  /** A bare path to a compressed archive: docker-archive or OCI archive as its contents say, once read. */
  | { kind: 'image-archive'; path: string }
  | { kind: 'registry'; reference: string };

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * `PATH[:REFERENCE]` where PATH itself may hold colons: the shortest prefix that exists is the path and the rest
 * the reference (`x.tar:registry:5000/app:1` → `x.tar` + `registry:5000/app:1`).
 */
async function splitPath(rest: string): Promise<{ path: string; suffix?: string }> {
  if (await exists(rest)) return { path: rest };
  for (let at = rest.indexOf(':'); at > 0; at = rest.indexOf(':', at + 1)) {
    if (await exists(rest.slice(0, at))) return { path: rest.slice(0, at), suffix: rest.slice(at + 1) };
  }
  return { path: rest };
}

/** `PATH[:TAG|@DIGEST]` of OCI layouts and archives. */
async function splitLayout(rest: string): Promise<{ path: string; selector: LayoutSelector }> {
  const digestAt = rest.search(/@sha(256|384|512):/);
  if (digestAt > 0) return { path: rest.slice(0, digestAt), selector: { digest: rest.slice(digestAt + 1) } };
  const { path, suffix } = await splitPath(rest);
  return { path, selector: suffix ? { tag: suffix } : undefined };
}

function needPath(kind: string, path: string): void {
  if (path === '') throw new LadingError('USAGE', `${kind}: needs a path (${kind}:PATH)`);
}

/** What a bare existing path holds: an OCI layout or root filesystem directory, or an image archive. */
async function sniff(path: string): Promise<TargetSpec> {
  const st = await stat(path);
  const abs = resolve(path);
  if (st.isDirectory()) {
    return (await exists(resolve(abs, 'oci-layout')))
      ? { kind: 'oci', path: abs, selector: undefined }
      : { kind: 'dir', path: abs };
  }
  // A compressed archive can only be read front to back: the one pass that walks it tells which kind it is.
  if (await isCompressedFile(abs)) return { kind: 'image-archive', path: abs };
  const archive = await openTarArchive(abs).catch(() => undefined);
  if (!archive)
    throw new LadingError('BAD_INPUT', `${path} is neither a directory nor an image archive (tar or tar.gz)`);
  try {
    if (archive.has('manifest.json')) return { kind: 'docker-archive', path: abs };
    if (archive.has('oci-layout') || archive.has('index.json'))
      return { kind: 'oci-archive', path: abs, selector: undefined };
  } finally {
    await archive.close();
  }
  throw new LadingError('BAD_INPUT', `${path} is a tar but holds neither manifest.json nor an OCI layout`);
}

/**
 * A bare target that can only be meant as a file: a path form, or an archive's file name. Image references never
 * start with `/` or `.`, and a repository named like `x.tar.gz` is far less likely than a mistyped file name.
 */
function looksLikePath(spec: string): boolean {
  return /^(\/|\.\.?\/|~)/.test(spec) || /\.(tar|tgz|tar\.gz|tar\.zst)$/i.test(spec);
}

/** SBOM file names by convention (CycloneDX's `*.cdx.json`, `bom.json`; SPDX's `*.spdx.json`). */
const SBOM_NAME = /(\.(cdx|spdx|bom)\.json|(^|\/)s?bom\.json)$/i;

/**
 * The SBOM file a TARGET names, or undefined when it names something else: `sbom:PATH`, or a bare path to an
 * existing file that is an SBOM by its name (`x.spdx.json`, `x.cdx.json`, `bom.json`) or, for any `.json` file, by
 * its first bytes (CycloneDX's `"bomFormat"`, SPDX's `"spdxVersion"`). A bare JSON SBOM would otherwise be taken for
 * an image archive and refused as "neither a directory nor an image archive".
 */
export async function sbomTargetPath(spec: string): Promise<string | undefined> {
  if (spec.startsWith('sbom:')) return spec.slice('sbom:'.length);
  if (!/\.json$/i.test(spec)) return undefined;
  const st = await stat(spec).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  if (SBOM_NAME.test(spec)) return spec;
  return looksLikeSbom(await head(spec, 64 * 1024)) ? spec : undefined;
}

function looksLikeSbom(text: string): boolean {
  return /^\s*\{/.test(text) && (/"bomFormat"\s*:\s*"CycloneDX"/.test(text) || /"spdxVersion"\s*:/.test(text));
}

async function head(path: string, bytes: number): Promise<string> {
  const file = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await file.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await file.close();
  }
}

export async function parseTargetSpec(spec: string): Promise<TargetSpec> {
  const colon = spec.indexOf(':');
  const scheme = colon > 0 ? spec.slice(0, colon) : '';
  const rest = spec.slice(colon + 1);
  switch (scheme) {
    case 'docker-archive': {
      const { path, suffix } = await splitPath(rest);
      needPath(scheme, path);
      return suffix ? { kind: scheme, path: resolve(path), reference: suffix } : { kind: scheme, path: resolve(path) };
    }
    case 'oci':
    case 'oci-archive': {
      const { path, selector } = await splitLayout(rest);
      needPath(scheme, path);
      return { kind: scheme, path: resolve(path), selector };
    }
    case 'dir':
      needPath(scheme, rest);
      return { kind: 'dir', path: resolve(rest) };
    case 'registry':
    case 'docker':
      // `registry:5000/app` is a host named registry (or docker) and its port, as in compose and CI setups.
      if (/^\d+(\/|$)/.test(rest)) return { kind: 'registry', reference: spec };
      if (rest.replace(/^\/\//, '') === '') throw new LadingError('USAGE', `${scheme}: needs an image reference`);
      return { kind: 'registry', reference: rest.replace(/^\/\//, '') };
    default:
      if (spec === '') throw new LadingError('USAGE', 'empty target');
      if (await exists(spec)) return sniff(spec);
      if (looksLikePath(spec)) throw new LadingError('NOT_FOUND', `${spec}: no such file or directory`);
      return { kind: 'registry', reference: spec };
  }
}

/** The target as the report names it: scheme and absolute path (and what was picked inside). */
export function describeSpec(t: TargetSpec): string {
  switch (t.kind) {
    case 'docker-archive':
      return `docker-archive:${t.path}${t.reference ? `:${t.reference}` : ''}`;
    case 'oci':
    case 'oci-archive': {
      const s = t.selector;
      const suffix = !s ? '' : 'digest' in s ? `@${s.digest}` : `:${s.tag}`;
      return `${t.kind}:${t.path}${suffix}`;
    }
    case 'dir':
      return `dir:${t.path}`;
    case 'image-archive':
      return t.path;
    case 'registry':
      return t.reference;
  }
}
