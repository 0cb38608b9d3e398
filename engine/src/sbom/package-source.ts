import type { SourcePackage } from '../model/package.js';
import type { PurlParts } from '../model/purl.js';
import { PROP } from './properties.js';
import { firstProp, type SbomComponent } from './sbom-component.js';

/**
 * The source package a binary package was built from, from whichever tool's convention the SBOM uses:
 * Lading's properties, Trivy's `SrcName`/`SrcVersion`(/`SrcRelease`/`SrcEpoch`), Syft's metadata properties,
 * the purl's `upstream` qualifier (deb `name[@version]`, rpm `name-version-release.src.rpm`), SPDX `sourceInfo`.
 */
export function sourceOf(component: SbomComponent, purl: PurlParts | undefined): SourcePackage | undefined {
  const ladingName = firstProp(component, PROP.sourceName);
  if (ladingName) return withVersion(ladingName, firstProp(component, PROP.sourceVersion));

  const trivyName = firstProp(component, 'aquasecurity:trivy:SrcName');
  if (trivyName) {
    const version = firstProp(component, 'aquasecurity:trivy:SrcVersion');
    const release = firstProp(component, 'aquasecurity:trivy:SrcRelease');
    const epoch = firstProp(component, 'aquasecurity:trivy:SrcEpoch');
    const full = version
      ? `${epoch && epoch !== '0' ? `${epoch}:` : ''}${version}${release ? `-${release}` : ''}`
      : undefined;
    return withVersion(trivyName, full);
  }

  const syftName = firstProp(component, 'syft:metadata:source', 'syft:metadata:originPackage');
  if (syftName) return withVersion(syftName, firstProp(component, 'syft:metadata:sourceVersion'));
  const sourceRpm = firstProp(component, 'syft:metadata:sourceRpm');
  if (sourceRpm) return fromSourceRpm(sourceRpm);

  const upstream = purl?.qualifiers?.['upstream'];
  if (upstream) {
    if (purl?.type === 'rpm' || upstream.endsWith('.src.rpm')) return fromSourceRpm(upstream);
    const at = upstream.indexOf('@');
    return at > 0 ? withVersion(upstream.slice(0, at), upstream.slice(at + 1)) : { name: upstream };
  }

  const built = component.sourceInfo?.match(/^built package from:\s*(\S+)(?:\s+(\S+))?\s*$/);
  if (built?.[1]) return withVersion(built[1], built[2]);
  return undefined;
}

function withVersion(name: string, version: string | undefined): SourcePackage {
  return version ? { name, version } : { name };
}

/** `openssl-3.0.7-24.el9.src.rpm` → openssl, 3.0.7-24.el9. */
function fromSourceRpm(file: string): SourcePackage | undefined {
  const base = file.replace(/\.src\.rpm$/, '').replace(/\.nosrc\.rpm$/, '');
  const parts = base.split('-');
  if (parts.length < 3) return { name: base };
  const release = parts.pop() as string;
  const version = parts.pop() as string;
  return { name: parts.join('-'), version: `${version}-${release}` };
}
