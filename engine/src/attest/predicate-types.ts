import { LadingError } from '../errors/lading-error.js';

/** cosign's `--type` short names (cmd/cosign/cli/options/predicate.go). */
export const PREDICATE_TYPES: Readonly<Record<string, string>> = {
  slsaprovenance: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance02: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance1: 'https://slsa.dev/provenance/v1',
  link: 'https://in-toto.io/Link/v1',
  spdx: 'https://spdx.dev/Document',
  spdxjson: 'https://spdx.dev/Document',
  cyclonedx: 'https://cyclonedx.org/bom',
  vuln: 'https://cosign.sigstore.dev/attestation/vuln/v1',
  openvex: 'https://openvex.dev/ns',
  custom: 'https://cosign.sigstore.dev/attestation/v1',
  // Lading's own: a `lading scan -o json` report, which `verify-attestation --policy` can gate on.
  'lading-report': 'https://lading.dev/attestations/report/v1',
};

/** A short name or an absolute URI used verbatim. */
export function predicateTypeFor(type: string): string {
  const known = PREDICATE_TYPES[type.toLowerCase()];
  if (known) return known;
  if (/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(type)) return type;
  throw new LadingError(
    'USAGE',
    `${type}: not a known predicate type (${Object.keys(PREDICATE_TYPES).join(', ')}) or a URI`,
    { option: 'type' },
  );
}
