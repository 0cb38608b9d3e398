import { isRecord, stringOr, uniq } from '../common.js';

/** The fields of a package.json (or a package-lock entry) a cataloger reports. */
export interface NpmManifest {
  name?: string;
  version?: string;
  licenses: string[];
  dependsOn: string[];
}

/** License as npm has spelled it over the years: `"MIT"`, `{ "type": "MIT" }`, `"licenses": [{ "type": … }]`. */
export function npmLicenses(doc: Record<string, unknown>): string[] {
  const one = (value: unknown): string | undefined =>
    typeof value === 'string' ? value : isRecord(value) ? stringOr(value.type) : undefined;
  const list = Array.isArray(doc.licenses) ? doc.licenses.map(one) : [];
  return uniq([one(doc.license), ...list]);
}

export function readNpmManifest(doc: Record<string, unknown>): NpmManifest {
  const deps = [doc.dependencies, doc.optionalDependencies].flatMap((d) => (isRecord(d) ? Object.keys(d) : []));
  const manifest: NpmManifest = { licenses: npmLicenses(doc), dependsOn: uniq(deps) };
  const name = stringOr(doc.name);
  const version = stringOr(doc.version);
  if (name) manifest.name = name;
  if (version) manifest.version = version;
  return manifest;
}

/** Only what `readNpmManifest` reads: keeps memory flat when images carry package.json files with whole READMEs. */
export function slimPackageJson(doc: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['name', 'version', 'license', 'licenses', 'dependencies', 'optionalDependencies']) {
    if (key in doc) out[key] = doc[key];
  }
  return out;
}
