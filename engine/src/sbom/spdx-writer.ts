import { createHash } from 'node:crypto';
import type { Package } from '../model/package.js';
import type { Report } from '../model/report.js';
import type { TargetKind } from '../model/target.js';
import type { RenderOptions } from '../report/render-options.js';
import { OS_PACKAGE_TYPES, sortedPackages } from './component-order.js';
import { resolveDependencies } from './dependency-graph.js';
import { normalizeHash, spdxChecksumAlgorithm } from './hashes.js';
import { packageProperties, supplierOf } from './package-properties.js';
import { documentUuid, sbomTimestamp } from './sbom-identity.js';
import { SpdxLicenseTable } from './spdx-licenses.js';
import { describeTarget } from './target-component.js';

type Json = Record<string, unknown>;

const ROOT_LABEL: Readonly<Record<TargetKind, string>> = { image: 'Image', rootfs: 'Directory', sbom: 'SBOM' };

/** Namespace host: reserved (RFC 2606) so it can never name someone else's documents. */
const NAMESPACE_BASE = 'https://lading.invalid/spdxdocs';

/** SPDX 2.3 JSON: the image as the described package, containing one package per inventory entry. */
export function renderSpdx(report: Report, options: RenderOptions): string {
  return `${JSON.stringify(buildSpdx(report, options), null, 2)}\n`;
}

export function buildSpdx(report: Report, options: Pick<RenderOptions, 'sourceDateEpoch'>): Json {
  const created = sbomTimestamp(report, options);
  const tool = `lading-${report.tool.version}`;
  const target = describeTarget(report.target);
  const packages = sortedPackages(report.packages);
  const ids = spdxIds(packages);
  const idOf = (id: string): string => ids.get(id) as string;
  const licenses = new SpdxLicenseTable();

  const kindLabel = ROOT_LABEL[report.target.kind];
  const rootId = `SPDXRef-${kindLabel}-${sanitize(target.name)}`;
  const rootPackage: Json = {
    name: target.name,
    SPDXID: rootId,
  };
  if (target.version) rootPackage['versionInfo'] = target.version;
  Object.assign(rootPackage, {
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
  });
  if (target.digest?.startsWith('sha256:')) {
    rootPackage['checksums'] = [{ algorithm: 'SHA256', checksumValue: target.digest.slice(7) }];
  }
  Object.assign(rootPackage, {
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: 'NOASSERTION',
    copyrightText: 'NOASSERTION',
  });
  if (target.purl) rootPackage['externalRefs'] = [purlRef(target.purl)];
  rootPackage['primaryPackagePurpose'] = target.type === 'container' ? 'CONTAINER' : 'FILE';

  const spdxPackages: Json[] = [rootPackage];
  const relationships: Json[] = [
    { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: rootId },
  ];
  let osId: string | undefined;
  if (report.os) {
    osId = `SPDXRef-OperatingSystem-${sanitize(`${report.os.family}-${report.os.version}`)}`;
    const osPackage: Json = {
      name: report.os.family,
      SPDXID: osId,
      versionInfo: report.os.version,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: 'NOASSERTION',
      copyrightText: 'NOASSERTION',
      primaryPackagePurpose: 'OPERATING_SYSTEM',
    };
    if (report.os.name) osPackage['description'] = report.os.name;
    spdxPackages.push(osPackage);
    relationships.push({ spdxElementId: rootId, relationshipType: 'CONTAINS', relatedSpdxElement: osId });
  }
  for (const pkg of packages) {
    spdxPackages.push(spdxPackage(pkg, idOf(pkg.id), licenses, tool, created));
    relationships.push({ spdxElementId: rootId, relationshipType: 'CONTAINS', relatedSpdxElement: idOf(pkg.id) });
  }
  const graph = resolveDependencies(packages);
  for (const pkg of packages) {
    for (const dep of graph.get(pkg.id) ?? []) {
      relationships.push({
        spdxElementId: idOf(pkg.id),
        relationshipType: 'DEPENDS_ON',
        relatedSpdxElement: idOf(dep),
      });
    }
  }
  if (osId) {
    for (const pkg of packages) {
      if (!OS_PACKAGE_TYPES.has(pkg.type)) continue;
      relationships.push({ spdxElementId: osId, relationshipType: 'CONTAINS', relatedSpdxElement: idOf(pkg.id) });
    }
  }

  const body: Json = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: target.name,
  };
  const rest: Json = {
    creationInfo: { creators: [`Tool: ${tool}`], created },
    packages: spdxPackages,
    relationships,
  };
  const extracted = licenses.infos();
  if (extracted.length) rest['hasExtractedLicensingInfos'] = extracted;
  // Reproducible: the namespace is derived from the image digest and the content; unique otherwise.
  const contentHash = createHash('sha256')
    .update(JSON.stringify([body, rest]))
    .digest('hex');
  const uuid = documentUuid(options, `${target.digest ?? target.name}\0${contentHash}`);
  const namespace = `${NAMESPACE_BASE}/${report.target.kind}/${sanitize(target.name)}-${uuid}`;
  return { ...body, documentNamespace: namespace, ...rest };
}

function spdxPackage(pkg: Package, spdxId: string, licenses: SpdxLicenseTable, tool: string, created: string): Json {
  const out: Json = { name: pkg.name, SPDXID: spdxId };
  if (pkg.version) out['versionInfo'] = pkg.version;
  const supplier = supplierOf(pkg);
  if (supplier) out['supplier'] = `Organization: ${supplier}`;
  out['downloadLocation'] = 'NOASSERTION';
  out['filesAnalyzed'] = false;
  const checksums = (pkg.hashes ?? [])
    .map(normalizeHash)
    .filter((h) => h !== undefined)
    .map((h) => ({ algorithm: spdxChecksumAlgorithm(h.alg), checksumValue: h.content }))
    .filter((c) => c.algorithm);
  if (checksums.length) out['checksums'] = checksums;
  if (pkg.source) {
    out['sourceInfo'] = `built package from: ${pkg.source.name}${pkg.source.version ? ` ${pkg.source.version}` : ''}`;
  }
  out['licenseConcluded'] = 'NOASSERTION';
  out['licenseDeclared'] = licenses.declared(pkg.licenses);
  out['copyrightText'] = 'NOASSERTION';
  if (pkg.purl) out['externalRefs'] = [purlRef(pkg.purl)];
  out['primaryPackagePurpose'] = 'LIBRARY';
  // Lading's own facts (paths, layers, source) as annotations, the SPDX 2.3 place for tool-specific data.
  out['annotations'] = packageProperties(pkg).map((p) => ({
    annotator: `Tool: ${tool}`,
    annotationDate: created,
    annotationType: 'OTHER',
    comment: `${p.name}: ${p.value}`,
  }));
  return out;
}

function purlRef(purl: string): Json {
  return { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: purl };
}

/** SPDXIDs: `SPDXRef-Package-<type>-<name>-<package id>`, stable and unique because package ids are. */
function spdxIds(packages: readonly Package[]): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set<string>();
  for (const pkg of packages) {
    let id = `SPDXRef-Package-${pkg.type}-${sanitize(pkg.name).slice(0, 64)}-${sanitize(pkg.id)}`;
    for (let n = 1; used.has(id); n++) id = `SPDXRef-Package-${sanitize(pkg.id)}-${n}`;
    used.add(id);
    out.set(pkg.id, id);
  }
  return out;
}

/** SPDXID characters are limited to letters, digits, `.` and `-`. */
export function sanitize(text: string): string {
  return text.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
}
