import type { BuildContext } from './ci-environment.js';
import type { ResourceDescriptor } from './statement.js';

export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';

export interface ProvenanceInputs {
  context: BuildContext;
  /** Base images and other inputs besides the source checkout. */
  dependencies: ResourceDescriptor[];
  /** SBOMs, scan reports: things the build produced that are not subjects. */
  byproducts: ResourceDescriptor[];
  startedOn: Date;
  finishedOn: Date;
}

export interface SlsaProvenanceV1 {
  buildDefinition: {
    buildType: string;
    externalParameters: Record<string, unknown>;
    internalParameters: Record<string, unknown>;
    resolvedDependencies: ResourceDescriptor[];
  };
  runDetails: {
    builder: { id: string };
    metadata: { invocationId: string; startedOn: string; finishedOn: string };
    byproducts: ResourceDescriptor[];
  };
}

/** SLSA v1 wants RFC 3339 timestamps; whole seconds, UTC, as GitHub's and cosign's examples. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function buildProvenance(inputs: ProvenanceInputs): SlsaProvenanceV1 {
  const { context } = inputs;
  return {
    buildDefinition: {
      buildType: context.buildType,
      externalParameters: context.externalParameters,
      internalParameters: context.internalParameters,
      resolvedDependencies: [...(context.source ? [context.source] : []), ...inputs.dependencies],
    },
    runDetails: {
      builder: { id: context.builderId },
      metadata: {
        invocationId: context.invocationId,
        startedOn: rfc3339(inputs.startedOn),
        finishedOn: rfc3339(inputs.finishedOn),
      },
      byproducts: inputs.byproducts,
    },
  };
}
