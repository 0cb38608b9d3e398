import type { Package } from '../model/package.js';
import type { Report } from '../model/report.js';
import { gapWords } from '../report/coverage-words.js';
import type { RenderOptions } from '../report/render-options.js';
import { LADING_VERSION } from '../version.js';
import { bomRefs, OS_PACKAGE_TYPES, sortedPackages } from './component-order.js';
import { cyclonedxLicenses } from './cyclonedx-licenses.js';
import { cyclonedxVulnerabilities } from './cyclonedx-vulnerabilities.js';
import { resolveDependencies, topLevel } from './dependency-graph.js';
import { normalizeHash } from './hashes.js';
import { packageProperties, supplierOf } from './package-properties.js';
import { PROP, type Property } from './properties.js';
import { documentUuid, sbomTimestamp } from './sbom-identity.js';
import { describeTarget } from './target-component.js';

type Json = Record<string, unknown>;

const ROOT_REF_FALLBACK = 'lading:target';

/** CycloneDX JSON: the inventory, and a `vulnerabilities` section when the report has findings. */
export function renderCycloneDx(report: Report, options: RenderOptions): string {
  return `${JSON.stringify(buildCycloneDx(report, options), null, 2)}\n`;
}

export function buildCycloneDx(
  report: Report,
  options: Pick<RenderOptions, 'cyclonedxVersion' | 'sourceDateEpoch'>,
): Json {
  const specVersion = options.cyclonedxVersion;
  const packages = sortedPackages(report.packages);
  const root = rootComponent(report);
  const rootRef = root['bom-ref'] as string;
  const os = osComponent(report);
  const osRef = os?.['bom-ref'] as string | undefined;
  const refs = bomRefs(packages, new Set([rootRef, ...(osRef ? [osRef] : [])]));
  const refOf = (id: string): string => refs.get(id) as string;

  const components: Json[] = [];
  if (os) components.push(os);
  for (const pkg of packages) components.push(packageComponent(pkg, refOf(pkg.id), specVersion));

  const body: Json = {
    metadata: {
      timestamp: sbomTimestamp(report, options),
      tools: { components: [{ type: 'application', name: 'lading', version: report.tool.version || LADING_VERSION }] },
      component: root,
      // a reader of the SBOM must see that its vulnerabilities section leaves these packages out
      ...(report.coverage?.gaps.length
        ? { properties: report.coverage.gaps.map((gap) => ({ name: PROP.unchecked, value: gapWords(gap) })) }
        : {}),
    },
    components,
    dependencies: dependencies(packages, refOf, rootRef, osRef),
  };
  if (report.findings.length) body['vulnerabilities'] = cyclonedxVulnerabilities(report.findings, (id) => refs.get(id));

  // The serial number is derived from everything else, so it must be computed before it is added.
  const serialNumber = `urn:uuid:${documentUuid(options, () => JSON.stringify({ specVersion, body }))}`;
  return {
    $schema: `http://cyclonedx.org/schema/bom-${specVersion}.schema.json`,
    bomFormat: 'CycloneDX',
    specVersion,
    serialNumber,
    version: 1,
    ...body,
  };
}

function rootComponent(report: Report): Json {
  const target = describeTarget(report.target);
  const component: Json = { 'bom-ref': target.purl ?? ROOT_REF_FALLBACK, type: target.type, name: target.name };
  if (target.version) component['version'] = target.version;
  const hash = target.digest?.startsWith('sha256:')
    ? normalizeHash({ alg: 'SHA-256', content: target.digest.slice(7) })
    : undefined;
  if (hash) component['hashes'] = [hash];
  if (target.purl) component['purl'] = target.purl;
  const t = report.target;
  const props: Property[] = [
    { name: PROP.targetKind, value: t.kind },
    { name: PROP.targetRef, value: t.ref },
  ];
  if (t.imageId) props.push({ name: PROP.imageId, value: t.imageId });
  if (t.platform) props.push({ name: PROP.platform, value: t.platform });
  for (const tag of t.repoTags ?? []) props.push({ name: PROP.repoTag, value: tag });
  for (const layer of t.layers) props.push({ name: PROP.imageLayerDiffId, value: layer.diffId });
  component['properties'] = props;
  return component;
}

function osComponent(report: Report): Json | undefined {
  const os = report.os;
  if (!os) return undefined;
  const component: Json = {
    'bom-ref': `lading:os:${os.family}@${os.version}`,
    type: 'operating-system',
    name: os.family,
    version: os.version,
  };
  if (os.name) component['description'] = os.name;
  const props: Property[] = [];
  if (os.ecosystem) props.push({ name: PROP.osEcosystem, value: os.ecosystem });
  if (os.name) props.push({ name: PROP.osName, value: os.name });
  if (props.length) component['properties'] = props;
  return component;
}

function packageComponent(pkg: Package, ref: string, specVersion: string): Json {
  const component: Json = { 'bom-ref': ref, type: 'library' };
  const supplier = supplierOf(pkg);
  if (supplier) component['supplier'] = { name: supplier };
  component['name'] = pkg.name;
  if (pkg.version) component['version'] = pkg.version;
  const hashes = (pkg.hashes ?? []).map(normalizeHash).filter((h) => h !== undefined);
  if (hashes.length) component['hashes'] = hashes;
  const licenses = cyclonedxLicenses(pkg.licenses, specVersion);
  if (licenses) component['licenses'] = licenses;
  if (pkg.purl) component['purl'] = pkg.purl;
  const props = packageProperties(pkg);
  if (props.length) component['properties'] = props;
  return component;
}

/** Root → OS and top-level packages; OS → OS packages; each package → what it depends on. Every component listed. */
function dependencies(
  packages: readonly Package[],
  refOf: (id: string) => string,
  rootRef: string,
  osRef: string | undefined,
): Json[] {
  const graph = resolveDependencies(packages);
  const byId = new Map(packages.map((p) => [p.id, p]));
  const tops = topLevel(packages, graph);
  const rootDeps: string[] = [];
  const osDeps: string[] = [];
  for (const id of tops) {
    const pkg = byId.get(id) as Package;
    if (osRef && OS_PACKAGE_TYPES.has(pkg.type)) osDeps.push(refOf(id));
    else rootDeps.push(refOf(id));
  }
  if (osRef) rootDeps.unshift(osRef);
  const out: Json[] = [{ ref: rootRef, dependsOn: rootDeps }];
  if (osRef) out.push({ ref: osRef, dependsOn: osDeps });
  for (const pkg of packages) out.push({ ref: refOf(pkg.id), dependsOn: (graph.get(pkg.id) ?? []).map(refOf) });
  return out;
}
