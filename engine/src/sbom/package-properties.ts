import type { Package } from '../model/package.js';
import { PROP, type Property } from './properties.js';

/** A package's Lading facts that SBOM formats have no field for, as `lading:package:*` properties (read back by read.ts). */
export function packageProperties(pkg: Package): Property[] {
  const props: Property[] = [{ name: PROP.foundBy, value: pkg.foundBy }];
  for (const location of pkg.locations) props.push({ name: PROP.path, value: location.path });
  for (const location of pkg.locations)
    if (location.layer) props.push({ name: PROP.layerDiffId, value: location.layer });
  if (pkg.source) {
    props.push({ name: PROP.sourceName, value: pkg.source.name });
    if (pkg.source.version) props.push({ name: PROP.sourceVersion, value: pkg.source.version });
  }
  if (pkg.arch) props.push({ name: PROP.arch, value: pkg.arch });
  for (const key of Object.keys(pkg.metadata ?? {}).sort()) {
    props.push({ name: `${PROP.metadata}${key}`, value: (pkg.metadata as Record<string, string>)[key] as string });
  }
  return props;
}

/** Metadata keys catalogers use for who ships a package (rpm Vendor, a jar's Implementation-Vendor). */
const SUPPLIER_KEYS = ['rpm.vendor', 'java.vendor', 'supplier', 'maintainer'];

/** The organization that supplies the package, where a cataloger recorded one. */
export function supplierOf(pkg: Package): string | undefined {
  for (const key of SUPPLIER_KEYS) {
    const value = pkg.metadata?.[key]?.replace(/\s+/g, ' ').trim();
    if (value) return value;
  }
  return undefined;
}
