import { isPackageType, PACKAGE_TYPE_NAMES, PACKAGE_TYPES, packageTypeFacts } from '../model/ecosystems.js';
import type { Location, PackageFound, PackageType } from '../model/package.js';
import { buildPurl, type PurlParts, parsePurl } from '../model/purl.js';
import { parseCpe } from './cpe.js';
import { sourceOf } from './package-source.js';
import { PROP } from './properties.js';
import { firstProp, type SbomComponent } from './sbom-component.js';
import type { SkipLog } from './skip-log.js';

/** Syft's package type names (its `syft:package:type` property and SPDXIDs) → purl types, for CPE-only packages. */
export const SYFT_TYPES: Readonly<Record<string, PackageType>> = Object.fromEntries(
  PACKAGE_TYPE_NAMES.flatMap((type) => PACKAGE_TYPES[type].syftTypes.map((syft) => [syft, type])),
);

/** A package from an SBOM component: from its purl, else (best effort, warned) from a CPE; undefined when skipped. */
export function packageFromComponent(component: SbomComponent, skips: SkipLog): PackageFound | undefined {
  const label = `${component.name}${component.version ? `@${component.version}` : ''}`;
  const purlText = component.purl?.trim();
  const purl = purlText ? parsePurl(purlText) : undefined;
  if (purl) {
    if (!isPackageType(purl.type)) {
      skips.add(`components skipped, purl type ${purl.type} is not one Lading matches`, label);
      return undefined;
    }
    return build(component, purl, purlText as string, purl.type);
  }
  const fromCpe = viaCpe(component);
  if (fromCpe) {
    skips.add('components without a usable purl, read from their CPE and package type (best effort)', label);
    return fromCpe;
  }
  if (purlText) skips.add('components skipped, unparsable purl and no usable CPE', `${label} (${purlText})`);
  else if (component.cpes.length) skips.add('components skipped, only a CPE and no package type to place it in', label);
  else skips.add('components skipped, neither purl nor CPE', label);
  return undefined;
}

function viaCpe(component: SbomComponent): PackageFound | undefined {
  const type = component.typeHint ? SYFT_TYPES[component.typeHint] : undefined;
  if (!type || type === 'maven') return undefined;
  for (const cpe of component.cpes) {
    const parsed = parseCpe(cpe);
    if (!parsed) continue;
    const name = component.name || parsed.product;
    const version = component.version ?? parsed.version;
    if (!name || !version) continue;
    try {
      const purlText = buildPurl({ type, name, version });
      return build({ ...component, name, version }, { type, name, version }, purlText, type);
    } catch {
      // An invalid name for this purl type: try the next CPE.
    }
  }
  return undefined;
}

function build(component: SbomComponent, purl: PurlParts, purlText: string, type: PackageType): PackageFound {
  const pkg: PackageFound = {
    name: packageName(component, purl, type),
    version: withEpoch(component.version ?? purl.version ?? '', purl),
    type,
    purl: purlText,
    licenses: component.licenses,
    locations: locationsOf(component),
    foundBy: firstProp(component, PROP.foundBy) ?? 'sbom',
  };
  const source = sourceOf(component, purl);
  if (source) pkg.source = source;
  const arch = firstProp(component, PROP.arch) ?? purl.qualifiers?.['arch'];
  if (arch) pkg.arch = arch;
  if (component.hashes.length) pkg.hashes = component.hashes;
  const metadata: Record<string, string> = {};
  for (const [name, values] of component.properties) {
    if (name.startsWith(PROP.metadata) && values[0] !== undefined)
      metadata[name.slice(PROP.metadata.length)] = values[0];
  }
  if (Object.keys(metadata).length) pkg.metadata = metadata;
  return pkg;
}

/** The name as the component gives it (group joined the way each ecosystem spells it), else from the purl. */
function packageName(component: SbomComponent, purl: PurlParts, type: PackageType): string {
  const name = component.name;
  const group = component.group;
  if (name && group && !name.includes(group)) {
    const joined = qualified(type, group, name);
    if (joined) return joined;
  }
  if (name) return name;
  if (!purl.namespace) return purl.name;
  return qualified(type, purl.namespace, purl.name) ?? purl.name;
}

/** Maven `group:artifact`, npm/Go/Packagist `namespace/name` (the table's advisory-name form); undefined otherwise. */
function qualified(type: PackageType, namespace: string, name: string): string | undefined {
  const facts = packageTypeFacts(type);
  if (facts.kind !== 'language') return undefined;
  if (facts.advisoryName === 'namespace:name') return `${namespace}:${name}`;
  if (facts.advisoryName === 'namespace/name') return `${namespace}/${name}`;
  return undefined;
}

/** Lading's path/layer properties, Trivy's `FilePath`/`LayerDiffID`, Syft's `location:N:path`/`layerID`. */
function locationsOf(component: SbomComponent): Location[] {
  const props = component.properties;
  const paths = props.get(PROP.path);
  if (paths?.length) return pair(paths, props.get(PROP.layerDiffId) ?? []);
  const trivyPath = props.get('aquasecurity:trivy:FilePath')?.[0];
  const trivyLayer = props.get('aquasecurity:trivy:LayerDiffID')?.[0];
  if (trivyPath || trivyLayer) {
    const location: Location = { path: trivyPath ? absolute(trivyPath) : '' };
    if (trivyLayer) location.layer = trivyLayer;
    return [location];
  }
  const out: Location[] = [];
  for (let i = 0; ; i++) {
    const path = props.get(`syft:location:${i}:path`)?.[0];
    if (path === undefined) break;
    const location: Location = { path: absolute(path) };
    const layer = props.get(`syft:location:${i}:layerID`)?.[0];
    if (layer) location.layer = layer;
    out.push(location);
  }
  return out;
}

function pair(paths: readonly string[], layers: readonly string[]): Location[] {
  return paths.map((path, i) => {
    const location: Location = { path };
    // Layers pair with paths only when every path had one; otherwise only the first is certain.
    const layer = layers.length === paths.length ? layers[i] : i === 0 ? layers[0] : undefined;
    if (layer) location.layer = layer;
    return location;
  });
}

/**
 * Trivy writes a deb/rpm epoch only as the purl's `epoch` qualifier (`bsdutils` `2.38.1-5+deb12u3?epoch=1`), yet
 * the epoch decides version order: put it back in front, as dpkg and rpm spell the version.
 */
function withEpoch(version: string, purl: PurlParts): string {
  const epoch = purl.qualifiers?.['epoch'];
  return epoch && epoch !== '0' && version && !version.includes(':') ? `${epoch}:${version}` : version;
}

function absolute(path: string): string {
  return path.startsWith('/') ? path : `/${path}`;
}
