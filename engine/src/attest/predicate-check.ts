import { LadingError } from '../errors/lading-error.js';
import { REPORT_SCHEMA_VERSION, type Report } from '../model/report.js';
import { REPORT_SCHEMA } from '../report/report-schema.js';
import { PREDICATE_TYPES } from './predicate-types.js';
import { type AttestationSubject, reportSubjectMismatch } from './report-binding.js';

/**
 * What a predicate is checked against before it is signed: structure per predicate type, and, for a Lading report,
 * that the report is about the image being attested. A signature vouches for the statement "this predicate is about
 * this subject", so signing a malformed document, or a report of another image, would vouch for something false.
 *
 * The checks are compact structural validators (the fields consumers rely on), not the full published schemas: the
 * engine carries no schema files at run time. The Lading report is the exception: its schema is the engine's own.
 */

type Check = (predicate: Record<string, unknown>) => string | undefined;

const SLSA_V02 = 'https://slsa.dev/provenance/v0.2';
const SLSA_V1 = 'https://slsa.dev/provenance/v1';

const CHECKS: Readonly<Record<string, Check>> = {
  [SLSA_V1]: slsaV1Problem,
  [SLSA_V02]: slsaV02Problem,
  [PREDICATE_TYPES['cyclonedx']!]: cycloneDxProblem,
  [PREDICATE_TYPES['spdxjson']!]: spdxProblem,
  [PREDICATE_TYPES['vuln']!]: cosignVulnProblem,
  [PREDICATE_TYPES['openvex']!]: openVexProblem,
  [PREDICATE_TYPES['lading-report']!]: ladingReportProblem,
};

/** True when `predicateType` has a structural check (custom types and other URIs are signed as given). */
export function isCheckedPredicateType(predicateType: string): boolean {
  return predicateType in CHECKS;
}

/**
 * Throws BAD_INPUT (exit 3: the predicate file is input that is not what its type says) when the predicate does not
 * have its type's shape, and DIGEST_MISMATCH (exit 3, as the CLI contract lists "digest mismatch") when a Lading
 * report is of another image than `subject`.
 */
export async function checkPredicate(
  predicateType: string,
  predicate: unknown,
  subject: AttestationSubject,
  source = 'the predicate',
): Promise<void> {
  const check = CHECKS[predicateType];
  if (!check) return;
  if (predicateType === PREDICATE_TYPES['lading-report']) reportValidator ??= await compileReportSchema();
  if (!isObject(predicate)) throw invalidPredicate(source, predicateType, 'not a JSON object');
  if (typeof predicate['_type'] === 'string' && 'predicate' in predicate) {
    throw invalidPredicate(source, predicateType, 'this is a whole in-toto statement; attest its predicate alone');
  }
  const problem = check(predicate);
  if (problem) throw invalidPredicate(source, predicateType, problem);
  if (predicateType === PREDICATE_TYPES['lading-report']) {
    const mismatch = reportSubjectMismatch(predicate as unknown as Report, subject);
    if (mismatch) throw new LadingError('DIGEST_MISMATCH', `${source}: ${mismatch}`);
  }
}

function invalidPredicate(source: string, predicateType: string, problem: string): LadingError {
  return new LadingError('BAD_INPUT', `${source}: not a valid ${predicateType} predicate: ${problem}`);
}

// ---- structural checks: each returns the first problem, in words, or undefined ----

function slsaV1Problem(p: Record<string, unknown>): string | undefined {
  const def = p['buildDefinition'];
  if (!isObject(def)) return 'buildDefinition must be an object';
  if (!isNonEmptyString(def['buildType'])) return 'buildDefinition.buildType must be a URI';
  if (!isObject(def['externalParameters'])) return 'buildDefinition.externalParameters must be an object';
  if (def['internalParameters'] !== undefined && !isObject(def['internalParameters'])) {
    return 'buildDefinition.internalParameters must be an object';
  }
  const deps = descriptorsProblem(def['resolvedDependencies'], 'buildDefinition.resolvedDependencies');
  if (deps) return deps;
  const run = p['runDetails'];
  if (!isObject(run)) return 'runDetails must be an object';
  const builder = run['builder'];
  if (!isObject(builder) || !isNonEmptyString(builder['id'])) return 'runDetails.builder.id must be a URI';
  const metadata = run['metadata'];
  if (metadata !== undefined) {
    if (!isObject(metadata)) return 'runDetails.metadata must be an object';
    for (const field of ['startedOn', 'finishedOn']) {
      if (metadata[field] !== undefined && !isTimestamp(metadata[field])) {
        return `runDetails.metadata.${field} must be an RFC 3339 timestamp`;
      }
    }
  }
  return descriptorsProblem(run['byproducts'], 'runDetails.byproducts');
}

function slsaV02Problem(p: Record<string, unknown>): string | undefined {
  const builder = p['builder'];
  if (!isObject(builder) || !isNonEmptyString(builder['id'])) return 'builder.id must be a URI';
  if (!isNonEmptyString(p['buildType'])) return 'buildType must be a URI';
  for (const field of ['invocation', 'buildConfig', 'metadata']) {
    if (p[field] !== undefined && p[field] !== null && !isObject(p[field])) return `${field} must be an object`;
  }
  const materials = p['materials'];
  if (materials !== undefined) {
    if (!Array.isArray(materials)) return 'materials must be an array';
    for (const [i, m] of materials.entries()) {
      if (!isObject(m)) return `materials[${i}] must be an object`;
      if (m['digest'] !== undefined && !isDigestSet(m['digest']))
        return `materials[${i}].digest must map algorithms to hex`;
    }
  }
  return undefined;
}

function cycloneDxProblem(p: Record<string, unknown>): string | undefined {
  if (p['bomFormat'] !== 'CycloneDX') return 'bomFormat must be "CycloneDX"';
  if (typeof p['specVersion'] !== 'string' || !/^1\.\d+$/.test(p['specVersion'])) {
    return 'specVersion must be a CycloneDX version such as "1.6"';
  }
  if (p['serialNumber'] !== undefined && !/^urn:uuid:[0-9a-f-]{36}$/i.test(String(p['serialNumber']))) {
    return 'serialNumber must be a urn:uuid';
  }
  if (p['metadata'] !== undefined && !isObject(p['metadata'])) return 'metadata must be an object';
  for (const field of ['components', 'services', 'dependencies', 'vulnerabilities']) {
    if (p[field] !== undefined && !Array.isArray(p[field])) return `${field} must be an array`;
  }
  for (const [i, c] of ((p['components'] as unknown[] | undefined) ?? []).entries()) {
    if (!isObject(c)) return `components[${i}] must be an object`;
    if (!isNonEmptyString(c['type'])) return `components[${i}].type is required`;
    if (!isNonEmptyString(c['name'])) return `components[${i}].name is required`;
  }
  for (const [i, v] of ((p['vulnerabilities'] as unknown[] | undefined) ?? []).entries()) {
    if (!isObject(v)) return `vulnerabilities[${i}] must be an object`;
  }
  return undefined;
}

function spdxProblem(p: Record<string, unknown>): string | undefined {
  if (typeof p['spdxVersion'] !== 'string' || !/^SPDX-2\.\d+$/.test(p['spdxVersion'])) {
    return 'spdxVersion must be an SPDX 2.x version such as "SPDX-2.3"';
  }
  if (p['SPDXID'] !== 'SPDXRef-DOCUMENT') return 'SPDXID must be "SPDXRef-DOCUMENT"';
  if (p['dataLicense'] !== 'CC0-1.0') return 'dataLicense must be "CC0-1.0"';
  if (!isNonEmptyString(p['name'])) return 'name is required';
  if (!isNonEmptyString(p['documentNamespace'])) return 'documentNamespace is required';
  const info = p['creationInfo'];
  if (!isObject(info)) return 'creationInfo must be an object';
  if (!isTimestamp(info['created'])) return 'creationInfo.created must be a timestamp';
  const creators = info['creators'];
  if (!Array.isArray(creators) || creators.length === 0 || !creators.every(isNonEmptyString)) {
    return 'creationInfo.creators must be a non-empty list';
  }
  for (const field of ['packages', 'files', 'relationships']) {
    if (p[field] !== undefined && !Array.isArray(p[field])) return `${field} must be an array`;
  }
  for (const [i, pkg] of ((p['packages'] as unknown[] | undefined) ?? []).entries()) {
    if (!isObject(pkg)) return `packages[${i}] must be an object`;
    if (typeof pkg['SPDXID'] !== 'string' || !pkg['SPDXID'].startsWith('SPDXRef-')) {
      return `packages[${i}].SPDXID must start with SPDXRef-`;
    }
    if (!isNonEmptyString(pkg['name'])) return `packages[${i}].name is required`;
  }
  return undefined;
}

/** cosign's vulnerability predicate (`cosign attest --type vuln`): scanner and scan times are what it defines. */
function cosignVulnProblem(p: Record<string, unknown>): string | undefined {
  if (p['invocation'] !== undefined && !isObject(p['invocation'])) return 'invocation must be an object';
  const scanner = p['scanner'];
  if (!isObject(scanner)) return 'scanner must be an object';
  if (!isNonEmptyString(scanner['uri'])) return 'scanner.uri is required';
  if (scanner['version'] !== undefined && typeof scanner['version'] !== 'string')
    return 'scanner.version must be a string';
  if (scanner['db'] !== undefined && !isObject(scanner['db'])) return 'scanner.db must be an object';
  if (scanner['result'] === undefined) return 'scanner.result is required';
  const metadata = p['metadata'];
  if (!isObject(metadata)) return 'metadata must be an object';
  if (!isTimestamp(metadata['scanStartedOn'])) return 'metadata.scanStartedOn must be an RFC 3339 timestamp';
  if (!isTimestamp(metadata['scanFinishedOn'])) return 'metadata.scanFinishedOn must be an RFC 3339 timestamp';
  return undefined;
}

function openVexProblem(p: Record<string, unknown>): string | undefined {
  if (typeof p['@context'] !== 'string' || !p['@context'].startsWith('https://openvex.dev/ns')) {
    return '@context must be an OpenVEX context (https://openvex.dev/ns/…)';
  }
  if (!isNonEmptyString(p['@id'])) return '@id is required';
  if (!Array.isArray(p['statements'])) return 'statements must be an array';
  return undefined;
}

let reportValidator: ((value: unknown) => string | undefined) | undefined;

function ladingReportProblem(p: Record<string, unknown>): string | undefined {
  if (p['tool'] === undefined || (p['tool'] as { name?: unknown }).name !== 'lading') {
    return 'not a Lading JSON report (tool.name is not "lading"; write one with `lading scan -o json=FILE`)';
  }
  if (typeof p['schemaVersion'] !== 'number') return 'schemaVersion must be a number';
  if (p['schemaVersion'] > REPORT_SCHEMA_VERSION) {
    return `report schema ${p['schemaVersion']} is newer than this Lading understands (${REPORT_SCHEMA_VERSION})`;
  }
  return reportValidator?.(p);
}

/** The report's own JSON Schema (the `-o json` contract), compiled once, when a report is first attested. */
async function compileReportSchema(): Promise<(value: unknown) => string | undefined> {
  // ajv is a run-time dependency of the engine (policy files use it too), loaded only for this predicate type.
  const { Ajv } = await import('ajv');
  const validate = new Ajv({ allErrors: false, strict: false, validateFormats: false }).compile(REPORT_SCHEMA);
  return (value) => {
    if (validate(value)) return undefined;
    const e = validate.errors?.[0];
    return e ? `${e.instancePath || '(top level)'} ${e.message ?? e.keyword}` : 'does not match the report schema';
  };
}

// ---- small predicates on JSON values ----

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isTimestamp(value: unknown): boolean {
  return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value);
}

function isDigestSet(value: unknown): boolean {
  return isObject(value) && Object.values(value).every((v) => typeof v === 'string' && /^[0-9a-f]+$/i.test(v));
}

function descriptorsProblem(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) return `${field} must be an array`;
  for (const [i, d] of value.entries()) {
    if (!isObject(d)) return `${field}[${i}] must be an object`;
    if (d['uri'] === undefined && d['digest'] === undefined && d['content'] === undefined && d['name'] === undefined) {
      return `${field}[${i}] needs one of uri, digest, content or name`;
    }
    if (d['digest'] !== undefined && !isDigestSet(d['digest']))
      return `${field}[${i}].digest must map algorithms to hex`;
  }
  return undefined;
}
