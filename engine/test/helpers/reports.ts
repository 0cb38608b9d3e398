import type { Finding, Severity } from '../../src/model/finding.js';
import type { Package, PackageType } from '../../src/model/package.js';
import type { Report } from '../../src/model/report.js';
import { buildReport } from '../../src/report/build.js';

/** A package as a cataloger would report it (facts from real images; ids derived like the inventory does). */
export function pkg(type: PackageType, name: string, version: string, extra: Partial<Package> = {}): Package {
  const purl =
    extra.purl ?? `pkg:${type}/${type === 'apk' ? 'alpine/' : type === 'deb' ? 'debian/' : ''}${name}@${version}`;
  return {
    id: `${type}-${name}-${version}`,
    name,
    version,
    type,
    purl,
    licenses: [],
    locations: [{ path: type === 'apk' ? '/lib/apk/db/installed' : '/var/lib/dpkg/status', layer: 'sha256:aa' }],
    foundBy: type,
    ...extra,
  };
}

export function finding(p: Package, id: string, severity: Severity, extra: Partial<Finding> = {}): Finding {
  return {
    id,
    aliases: [],
    packageId: p.id,
    package: { name: p.name, version: p.version, type: p.type, purl: p.purl },
    severity,
    cvss: [],
    status: extra.fixedVersions?.length ? 'fixed' : 'affected',
    fixedVersions: [],
    kev: false,
    advisory: { id, source: 'osv' },
    ...extra,
  };
}

export function report(ref: string, packages: Package[], findings: Finding[], extra: Partial<Report> = {}): Report {
  const r = buildReport({
    target: { kind: 'image', ref, layers: [], config: { env: [], entrypoint: [], cmd: [], labels: {} } },
    inventory: { packages, warnings: [] },
    findings,
    warnings: [],
    db: { ecosystems: {} },
    createdAt: new Date('2026-11-01T00:00:00Z'),
  });
  return { ...r, ...extra };
}
