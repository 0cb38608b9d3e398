/**
 * Property names Lading writes into SBOMs (CycloneDX `properties`, SPDX annotations) and reads back.
 * One namespace, `lading:`, like Trivy's `aquasecurity:trivy:`; the names are a contract for round trips.
 */
export const PROP = {
  foundBy: 'lading:package:foundBy',
  path: 'lading:package:path',
  layerDiffId: 'lading:package:layerDiffId',
  sourceName: 'lading:package:sourceName',
  sourceVersion: 'lading:package:sourceVersion',
  arch: 'lading:package:arch',
  /** Prefix: `lading:package:metadata:<key>`. */
  metadata: 'lading:package:metadata:',
  osEcosystem: 'lading:os:ecosystem',
  osName: 'lading:os:name',
  targetKind: 'lading:target:kind',
  targetRef: 'lading:target:ref',
  imageId: 'lading:image:imageId',
  platform: 'lading:image:platform',
  repoTag: 'lading:image:repoTag',
  imageLayerDiffId: 'lading:image:layerDiffId',
  findingStatus: 'lading:finding:status',
  findingKev: 'lading:finding:kev',
  findingEpss: 'lading:finding:epss',
  findingEpssPercentile: 'lading:finding:epssPercentile',
  findingSeveritySource: 'lading:finding:severitySource',
  /** On the metadata, one per coverage gap: what the report did not check (`Debian:12: no vulnerability data (3 packages)`). */
  unchecked: 'lading:unchecked',
} as const;

export interface Property {
  name: string;
  value: string;
}
