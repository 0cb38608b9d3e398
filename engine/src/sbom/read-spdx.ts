import { LadingError } from '../errors/lading-error.js';
import type { Hash } from '../model/package.js';
import type { TargetInfo } from '../model/target.js';
import { cyclonedxHashAlgorithm } from './hashes.js';
import { asArray, asObject, asString, type JsonObject } from './json-guards.js';
import { osInfo } from './os-ecosystem.js';
import { SYFT_TYPES } from './package-from-component.js';
import type { SbomComponent } from './sbom-component.js';
import type { SbomDocument } from './sbom-document.js';

export const SPDX_READ_VERSIONS = ['SPDX-2.2', 'SPDX-2.3'];

/** An SPDX 2.2/2.3 JSON document's packages, OS, DEPENDS_ON relationships and described package's facts. */
export function readSpdx(doc: JsonObject, where: string): SbomDocument {
  const version = asString(doc['spdxVersion']);
  if (!version || !SPDX_READ_VERSIONS.includes(version)) {
    throw new LadingError(
      'BAD_INPUT',
      `cannot read ${where}: SPDX version ${JSON.stringify(doc['spdxVersion'] ?? null)} is not supported (SPDX-2.2 and SPDX-2.3 are)`,
    );
  }
  if (doc['packages'] !== undefined && !Array.isArray(doc['packages'])) {
    throw new LadingError('BAD_INPUT', `cannot read ${where}: "packages" is not an array`);
  }
  const relationships = asArray(doc['relationships'])
    .map(asObject)
    .filter((r): r is JsonObject => !!r);
  const described = new Set<string>(
    asArray(doc['documentDescribes']).filter((d): d is string => typeof d === 'string'),
  );
  const dependsOn = new Map<string, string[]>();
  for (const rel of relationships) {
    const type = asString(rel['relationshipType']);
    const from = asString(rel['spdxElementId']);
    const to = asString(rel['relatedSpdxElement']);
    if (!type || !from || !to) continue;
    // Trivy wrote `DESCRIBE` for a while.
    if ((type === 'DESCRIBES' || type === 'DESCRIBE') && from === 'SPDXRef-DOCUMENT') described.add(to);
    if (type === 'DESCRIBED_BY' && to === 'SPDXRef-DOCUMENT') described.add(from);
    if (type === 'DEPENDS_ON') dependsOn.set(from, [...(dependsOn.get(from) ?? []), to]);
    if (type === 'DEPENDENCY_OF') dependsOn.set(to, [...(dependsOn.get(to) ?? []), from]);
  }
  const extracted = new Map<string, string>();
  for (const info of asArray(doc['hasExtractedLicensingInfos'])) {
    const entry = asObject(info);
    const id = asString(entry?.['licenseId']);
    const text = asString(entry?.['name']) ?? asString(entry?.['extractedText']);
    if (id && text) extracted.set(id, text);
  }

  const result: SbomDocument = { format: version, components: [], dependsOn, target: {} };
  for (const item of asArray(doc['packages'])) {
    const pkg = asObject(item);
    if (!pkg) continue;
    const spdxId = asString(pkg['SPDXID']) ?? '';
    const purpose = asString(pkg['primaryPackagePurpose']);
    const name = asString(pkg['name']) ?? '';
    const version = asString(pkg['versionInfo']);
    if (purpose === 'OPERATING_SYSTEM' || spdxId.startsWith('SPDXRef-OperatingSystem')) {
      if (!result.os && name) result.os = osInfo(name.toLowerCase(), version ?? '', asString(pkg['description']));
      continue;
    }
    const refs = asArray(pkg['externalRefs'])
      .map(asObject)
      .filter((r): r is JsonObject => !!r);
    const purl = refs.find((r) => asString(r['referenceType']) === 'purl');
    if (described.has(spdxId) || purpose === 'CONTAINER') {
      if (!purl || asString(purl['referenceLocator'])?.startsWith('pkg:oci/')) {
        result.target = rootFacts(pkg);
        continue;
      }
    }
    // Trivy's grouping packages (one per lockfile): structure, not packages.
    if (spdxId.startsWith('SPDXRef-Application-') && !purl) continue;
    const component: SbomComponent = {
      ref: spdxId,
      name,
      cpes: refs
        .filter((r) => /^cpe2[23]Type$/.test(asString(r['referenceType']) ?? ''))
        .map((r) => asString(r['referenceLocator']))
        .filter((c): c is string => !!c),
      licenses: licensesOf(pkg, extracted),
      hashes: checksumsOf(pkg['checksums']),
      properties: annotationsOf(pkg),
    };
    if (version) component.version = version;
    const locator = asString(purl?.['referenceLocator']);
    if (locator) component.purl = locator;
    const sourceInfo = asString(pkg['sourceInfo']);
    if (sourceInfo) component.sourceInfo = sourceInfo;
    // Syft's SPDXIDs name the package type: SPDXRef-Package-<type>-<name>-<id>.
    const hint = Object.keys(SYFT_TYPES)
      .filter((type) => spdxId.startsWith(`SPDXRef-Package-${type}-`))
      .sort((a, b) => b.length - a.length)[0];
    if (hint) component.typeHint = hint;
    result.components.push(component);
  }
  return result;
}

function licensesOf(pkg: JsonObject, extracted: ReadonlyMap<string, string>): string[] {
  const declared = asString(pkg['licenseDeclared']) ?? asString(pkg['licenseConcluded']);
  if (!declared || declared === 'NOASSERTION' || declared === 'NONE') return [];
  return [extracted.get(declared) ?? declared];
}

function checksumsOf(value: unknown): Hash[] {
  const out: Hash[] = [];
  for (const item of asArray(value)) {
    const checksum = asObject(item);
    const alg = cyclonedxHashAlgorithm(asString(checksum?.['algorithm']) ?? '');
    const content = asString(checksum?.['checksumValue']);
    if (alg && content) out.push({ alg, content });
  }
  return out;
}

/**
 * Tool facts as properties: Lading's annotations (`lading:…: value`) and Trivy's attribution texts
 * (`LayerDiffID: sha256:…`, read under their Trivy CycloneDX names).
 */
function annotationsOf(pkg: JsonObject): Map<string, string[]> {
  const map = new Map<string, string[]>();
  const add = (name: string, value: string) => map.set(name, [...(map.get(name) ?? []), value]);
  for (const item of asArray(pkg['annotations'])) {
    const comment = asString(asObject(item)?.['comment']);
    const match = comment?.match(/^(lading:[A-Za-z0-9:._-]+): ([\s\S]*)$/);
    if (match?.[1] && match[2] !== undefined) add(match[1], match[2]);
  }
  for (const text of asArray(pkg['attributionTexts'])) {
    const match = typeof text === 'string' ? text.match(/^([A-Za-z]+): (.*)$/) : null;
    if (match?.[1] && match[2] !== undefined) add(`aquasecurity:trivy:${match[1]}`, match[2]);
  }
  return map;
}

function rootFacts(pkg: JsonObject): Partial<TargetInfo> {
  const facts: Partial<TargetInfo> = {};
  for (const item of asArray(pkg['checksums'])) {
    const checksum = asObject(item);
    const value = asString(checksum?.['checksumValue']);
    if (asString(checksum?.['algorithm']) === 'SHA256' && value && /^[0-9a-f]{64}$/i.test(value)) {
      facts.digest = `sha256:${value.toLowerCase()}`;
    }
  }
  const annotations = annotationsOf(pkg);
  const imageId = annotations.get('aquasecurity:trivy:ImageID')?.[0];
  if (imageId) facts.imageId = imageId;
  const tags = annotations.get('aquasecurity:trivy:RepoTag');
  if (tags?.length) facts.repoTags = tags;
  const layers = annotations.get('aquasecurity:trivy:DiffID');
  if (layers?.length) facts.layers = layers.map((diffId) => ({ diffId }));
  return facts;
}
