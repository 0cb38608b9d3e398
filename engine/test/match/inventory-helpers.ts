import type { OsInfo } from '../../src/model/os.js';
import type { Package, PackageType } from '../../src/model/package.js';
import { buildPurl } from '../../src/model/purl.js';

export const LAYER = `sha256:${'a'.repeat(64)}`;

/** A package as the catalogers report it (purl built the same way), for hand-built inventories. */
export function pkg(
  type: PackageType,
  name: string,
  version: string,
  extra: {
    source?: { name: string; version?: string };
    namespace?: string;
    metadata?: Record<string, string>;
    path?: string;
  } = {},
): Package {
  const purlType = type === 'deb' ? 'deb' : type;
  const p: Package = {
    id: `${type}:${extra.namespace ? `${extra.namespace}/` : ''}${name}@${version}`,
    name,
    version,
    type,
    purl: buildPurl({ type: purlType, namespace: extra.namespace, name, version }),
    licenses: [],
    locations: [{ path: extra.path ?? '/var/lib/dpkg/status', layer: LAYER }],
    foundBy: type,
  };
  if (extra.source) p.source = extra.source;
  if (extra.metadata) p.metadata = extra.metadata;
  return p;
}

export const DEBIAN_9: OsInfo = { family: 'debian', version: '9', ecosystem: 'Debian:9' };
export const DEBIAN_12: OsInfo = { family: 'debian', version: '12', ecosystem: 'Debian:12' };
export const ALPINE_310: OsInfo = { family: 'alpine', version: '3.10.2', ecosystem: 'Alpine:v3.10' };
