import type { PackageFound } from '../../../model/package.js';
import { tryPurl } from '../common.js';
import type { GoBuildInfo } from './go-buildinfo.js';

/** A Go package without its location (the binary adds that). */
export type GoModule = Omit<PackageFound, 'locations' | 'foundBy'>;

interface ModLine {
  kind: 'mod' | 'dep';
  path: string;
  version: string;
  sum?: string;
  replacedBy?: { path: string; version: string; sum?: string };
}

/**
 * Turns build info into packages: the main module, every dependency and the toolchain as `stdlib`
 * (the name OSV's Go ecosystem uses for the standard library).
 *
 * Replacements (`=>`): the replacement is what was compiled in, so it is reported (its path and version), with
 * the replaced module in metadata. A replacement by a local directory has no version (`(devel)` or none): the
 * original path is kept with version `(devel)`, since claiming the original version would match advisories for
 * code that is not in the binary.
 */
export function goModules(info: GoBuildInfo): GoModule[] {
  const mods: ModLine[] = [];
  const build: Record<string, string> = {};
  for (const line of info.modInfo.split('\n')) {
    const f = line.split('\t');
    const tag = f[0];
    if ((tag === 'mod' || tag === 'dep') && f[1]) {
      const mod: ModLine = { kind: tag, path: f[1], version: f[2] ?? '' };
      if (f[3]) mod.sum = f[3];
      mods.push(mod);
    } else if (tag === '=>' && f[1]) {
      const last = mods[mods.length - 1];
      if (last) last.replacedBy = { path: f[1], version: f[2] ?? '', ...(f[3] ? { sum: f[3] } : {}) };
    } else if (tag === 'build' && f[1]) {
      const eq = f[1].indexOf('=');
      if (eq > 0) build[f[1].slice(0, eq)] = f[1].slice(eq + 1);
    }
  }

  const out: GoModule[] = [];
  for (const mod of mods) out.push(toPackage(mod, build));
  const std = stdlibVersion(info.goVersion);
  if (std) {
    out.push({
      name: 'stdlib',
      version: std,
      type: 'golang',
      purl: goPurl('stdlib', std),
      licenses: ['BSD-3-Clause'],
      metadata: { 'go.toolchain': info.goVersion },
    });
  }
  return out;
}

function toPackage(mod: ModLine, build: Record<string, string>): GoModule {
  const metadata: Record<string, string> = {};
  let path = mod.path;
  let version = mod.version;
  let sum = mod.sum;
  if (mod.replacedBy) {
    metadata['go.replaces'] = `${mod.path}${mod.version ? `@${mod.version}` : ''}`;
    if (mod.replacedBy.version && mod.replacedBy.version !== '(devel)') {
      path = mod.replacedBy.path;
      version = mod.replacedBy.version;
      sum = mod.replacedBy.sum;
    } else {
      metadata['go.replacedBy'] = mod.replacedBy.path;
      version = '(devel)';
      sum = undefined;
    }
  }
  if (!version) version = '(devel)';
  if (mod.kind === 'mod') {
    metadata['go.mainModule'] = 'true';
    for (const key of ['GOOS', 'GOARCH', 'vcs.revision', 'vcs.time', '-ldflags']) {
      const value = build[key];
      if (value) metadata[`go.build.${key}`] = value;
    }
  }
  if (sum) metadata['go.sum'] = sum;
  const pkg: GoModule = { name: path, version, type: 'golang', purl: goPurl(path, version), licenses: [] };
  if (Object.keys(metadata).length) pkg.metadata = metadata;
  return pkg;
}

/** `pkg:golang/github.com/x/y@v1.2.3`: the module path's last segment is the name, the rest the namespace. */
function goPurl(path: string, version: string): string {
  const slash = path.lastIndexOf('/');
  const parts = {
    type: 'golang',
    name: path.slice(slash + 1),
    ...(slash > 0 ? { namespace: path.slice(0, slash) } : {}),
  };
  const purl = tryPurl(version === '(devel)' ? parts : { ...parts, version });
  return purl ?? `pkg:golang/${path.split('/').map(encodeURIComponent).join('/')}`;
}

/** `go1.21.3` → `1.21.3`; `go1.22rc1 X:boringcrypto` → `1.22rc1`; development toolchains have no release version. */
export function stdlibVersion(goVersion: string): string | undefined {
  const first = goVersion.trim().split(/\s+/)[0] ?? '';
  const m = /^go(\d+(?:\.\d+)*(?:(?:rc|beta)\d+)?)/.exec(first);
  return m?.[1];
}
