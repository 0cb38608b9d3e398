import { osvEcosystem } from '../catalog/os/release/ecosystem.js';
import { eolDate } from '../catalog/os/release/eol.js';
import { familyOfPurlNamespace, isOsPackageType } from '../model/ecosystems.js';
import type { OsInfo } from '../model/os.js';
import type { PackageFound } from '../model/package.js';
import { parsePurl } from '../model/purl.js';

export function osInfo(family: string, version: string, name?: string, ecosystem?: string): OsInfo {
  const os: OsInfo = { family, version };
  if (name) os.name = name;
  // The os-release cataloger's rule, so an SBOM's OS matches the same advisories as the image's would.
  const eco =
    ecosystem ??
    osvEcosystem(name ? { id: family, versionId: version, prettyName: name } : { id: family, versionId: version });
  if (eco) os.ecosystem = eco;
  // The end-of-life date as the os-release cataloger records it; whether it has passed is judged later, for a moment.
  const eol = eolDate(family, version);
  if (eol) os.eolDate = eol;
  return os;
}

/**
 * The OS, when the SBOM has no OS component: the commonest `distro` qualifier of its deb/apk/rpm purls
 * (Syft: `debian-12`, `alpine-3.18.4`; Trivy: `debian-12.5`, or a bare `3.16.0` with the family in the namespace).
 */
export function osFromPurls(packages: readonly PackageFound[]): { os?: OsInfo; distinct: number } {
  const counts = new Map<string, { family: string; version: string; n: number }>();
  for (const pkg of packages) {
    if (!isOsPackageType(pkg.type)) continue;
    const purl = parsePurl(pkg.purl);
    const distro = purl?.qualifiers?.['distro'];
    if (!purl || !distro) continue;
    const match = distro.match(/^([a-z][a-z0-9._]*(?:-[a-z][a-z0-9._]*)*)-(\d[\w.:~+-]*)$/i);
    const family = (match?.[1] ?? purl.namespace ?? '').toLowerCase();
    const version = match?.[2] ?? distro;
    if (!family) continue;
    // purl namespaces are vendor names that may differ from the os-release ID (`redhat` for `rhel`)
    const normalized = familyOfPurlNamespace(family) ?? family;
    const key = `${normalized}\0${version}`;
    const entry = counts.get(key) ?? { family: normalized, version, n: 0 };
    entry.n++;
    counts.set(key, entry);
  }
  const best = [...counts.values()].sort(
    (a, b) => b.n - a.n || (a.family + a.version < b.family + b.version ? -1 : 1),
  )[0];
  return best ? { os: osInfo(best.family, best.version), distinct: counts.size } : { distinct: 0 };
}
