import { LadingError } from '../errors/lading-error.js';
import type { Hash } from '../model/package.js';
import type { TargetInfo } from '../model/target.js';
import { asArray, asObject, asString, type JsonObject, propertyMap } from './json-guards.js';
import { osInfo } from './os-ecosystem.js';
import { PROP } from './properties.js';
import type { SbomComponent } from './sbom-component.js';
import type { SbomDocument } from './sbom-document.js';

export const CYCLONEDX_READ_VERSIONS = ['1.4', '1.5', '1.6', '1.7'];
/** Nesting deeper than this is not a real SBOM: stop rather than exhaust the stack or the heap. */
const MAX_NESTING = 64;

/** A CycloneDX JSON document's components (nested ones flattened), OS, dependencies and target facts. */
export function readCycloneDx(doc: JsonObject, where: string): SbomDocument {
  const specVersion = asString(doc['specVersion']);
  if (!specVersion || !CYCLONEDX_READ_VERSIONS.includes(specVersion)) {
    throw new LadingError(
      'BAD_INPUT',
      `cannot read ${where}: CycloneDX spec version ${JSON.stringify(doc['specVersion'] ?? null)} is not supported (1.4–1.7 are)`,
    );
  }
  if (doc['components'] !== undefined && !Array.isArray(doc['components'])) {
    throw new LadingError('BAD_INPUT', `cannot read ${where}: "components" is not an array`);
  }
  const metadata = asObject(doc['metadata']);
  const root = asObject(metadata?.['component']);
  const result: SbomDocument = { format: `CycloneDX ${specVersion}`, components: [], dependsOn: new Map(), target: {} };
  if (root) {
    result.target = rootFacts(root);
    walk(asArray(root['components']), result, 1, where);
  }
  walk(asArray(doc['components']), result, 0, where);

  for (const entry of asArray(doc['dependencies'])) {
    const dep = asObject(entry);
    const ref = asString(dep?.['ref']);
    if (!ref) continue;
    const targets = asArray(dep?.['dependsOn']).filter((r): r is string => typeof r === 'string');
    if (targets.length) result.dependsOn.set(ref, [...(result.dependsOn.get(ref) ?? []), ...targets]);
  }
  return result;
}

function walk(list: unknown[], into: SbomDocument, depth: number, where: string): void {
  // Iterative: hostile nesting must not overflow the call stack.
  const stack: { items: unknown[]; depth: number }[] = [{ items: list, depth }];
  while (stack.length) {
    const { items, depth: level } = stack.pop() as { items: unknown[]; depth: number };
    for (const item of items) {
      const component = asObject(item);
      if (!component) continue;
      const children = asArray(component['components']);
      if (children.length) {
        if (level >= MAX_NESTING) {
          throw new LadingError(
            'BAD_INPUT',
            `cannot read ${where}: components nest more than ${MAX_NESTING} levels deep`,
          );
        }
        stack.push({ items: children, depth: level + 1 });
      }
      classify(component, into);
    }
  }
}

function classify(component: JsonObject, into: SbomDocument): void {
  const type = asString(component['type']);
  const properties = propertyMap(component['properties']);
  const name = asString(component['name']) ?? '';
  const version = asString(component['version']);
  if (type === 'operating-system') {
    if (!into.os && name) {
      const family = name.toLowerCase();
      const pretty = properties.get(PROP.osName)?.[0] ?? properties.get('syft:distro:prettyName')?.[0];
      into.os = osInfo(family, version ?? '', pretty, properties.get(PROP.osEcosystem)?.[0]);
    }
    return;
  }
  const purl = asString(component['purl']);
  // Trivy's grouping components (one per lockfile or OS) carry a Class and no purl: structure, not packages.
  if (!purl && properties.has('aquasecurity:trivy:Class')) return;
  if (!purl && type === 'file') return;
  const sbomComponent: SbomComponent = {
    name,
    cpes: [],
    licenses: licensesOf(component['licenses']),
    hashes: hashesOf(component['hashes']),
    properties,
  };
  const ref = asString(component['bom-ref']);
  if (ref) sbomComponent.ref = ref;
  const group = asString(component['group']);
  if (group) sbomComponent.group = group;
  if (version) sbomComponent.version = version;
  if (purl) sbomComponent.purl = purl;
  const cpe = asString(component['cpe']);
  if (cpe) sbomComponent.cpes.push(cpe);
  for (const cpe of properties.get('syft:cpe23') ?? []) sbomComponent.cpes.push(cpe);
  const typeHint = properties.get('syft:package:type')?.[0];
  if (typeHint) sbomComponent.typeHint = typeHint;
  into.components.push(sbomComponent);
}

function licensesOf(value: unknown): string[] {
  const out: string[] = [];
  for (const item of asArray(value)) {
    const choice = asObject(item);
    const expression = asString(choice?.['expression']);
    if (expression) {
      out.push(expression);
      continue;
    }
    const license = asObject(choice?.['license']);
    const text = asString(license?.['id']) ?? asString(license?.['name']);
    if (text) out.push(text);
  }
  return out;
}

function hashesOf(value: unknown): Hash[] {
  const out: Hash[] = [];
  for (const item of asArray(value)) {
    const hash = asObject(item);
    const alg = asString(hash?.['alg']);
    const content = asString(hash?.['content']);
    if (alg && content) out.push({ alg, content });
  }
  return out;
}

function rootFacts(root: JsonObject): Partial<TargetInfo> {
  const facts: Partial<TargetInfo> = {};
  const properties = propertyMap(root['properties']);
  for (const item of asArray(root['hashes'])) {
    const hash = asObject(item);
    const content = asString(hash?.['content']);
    if (asString(hash?.['alg']) === 'SHA-256' && content && /^[0-9a-f]{64}$/i.test(content)) {
      facts.digest = `sha256:${content.toLowerCase()}`;
    }
  }
  const purl = asString(root['purl']);
  const purlDigest = purl?.match(/^pkg:oci\/[^@]+@(sha256(?::|%3A)[0-9a-f]{64})/i)?.[1];
  if (!facts.digest && purlDigest) facts.digest = purlDigest.replace(/%3A/i, ':').toLowerCase();
  const imageId = properties.get(PROP.imageId)?.[0] ?? properties.get('aquasecurity:trivy:ImageID')?.[0];
  if (imageId) facts.imageId = imageId;
  const platform = properties.get(PROP.platform)?.[0];
  if (platform) facts.platform = platform;
  const tags = properties.get(PROP.repoTag) ?? properties.get('aquasecurity:trivy:RepoTag');
  if (tags?.length) facts.repoTags = tags;
  const layers = properties.get(PROP.imageLayerDiffId) ?? properties.get('aquasecurity:trivy:DiffID') ?? [];
  if (layers.length) facts.layers = layers.map((diffId) => ({ diffId }));
  return facts;
}
