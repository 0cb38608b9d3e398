import { basename } from 'node:path';
import { Ajv } from 'ajv';
import { LadingError, thrownValueText } from '../errors/lading-error.js';
import { readUserFile } from '../image/sources/regular-file.js';
import type { Report, SeverityCounts } from '../model/report.js';
import { loadReport, MAX_REPORT_BYTES, readJsonDocument } from '../report/load.js';
import type { SummaryInput, WeeklySummary } from './summary.js';
import { WEEKLY_SUMMARY_SCHEMA } from './summary-schema.js';

/**
 * Reads one report for a summary: a Lading JSON report or a Trivy JSON report (`trivy image -f json`). Never
 * throws for the file itself: a missing, unreadable, non-JSON or unrecognised file is an `unread` input (the
 * summary shows a placeholder for it), named by the repository when the document still tells it, else by the
 * file's base name.
 */
export async function readSummaryInput(file: string): Promise<SummaryInput> {
  let text: string;
  try {
    text = (await readUserFile(file, MAX_REPORT_BYTES, { label: `report ${file}` })).toString('utf8');
  } catch (err) {
    return unread(file, basename(file), err);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'unread', file, name: basename(file), reason: 'not JSON' };
  }
  if (isTrivyReport(value)) {
    try {
      return { kind: 'read', file, ...trivyInput(value) };
    } catch (err) {
      return unread(file, trivyName(value) ?? basename(file), err);
    }
  }
  try {
    // The Lading reader checks the document (tool, schema version, required blocks); parsing twice is cheap next to
    // the file read and keeps one definition of "a Lading report".
    return { kind: 'read', file, ...ladingInput(await loadReport(file)) };
  } catch (err) {
    return unread(file, ladingName(value) ?? basename(file), err);
  }
}

/** A Lading report's repository, digest, date and unsuppressed counts. */
export function ladingInput(report: Report): Omit<Extract<SummaryInput, { kind: 'read' }>, 'kind' | 'file'> {
  const counts = zeros();
  for (const finding of report.findings) {
    if (finding.suppressed) continue;
    const key = severityKey(finding.severity);
    counts[key] += 1;
  }
  return {
    name: repositoryName(report.target.repoTags?.[0] ?? report.target.ref),
    ...(report.target.digest ? { digest: report.target.digest } : {}),
    createdAt: report.createdAt,
    ...dataUpdatedAt(report),
    counts,
  };
}

/** The newest update time of the data the report was matched against (ISO strings of one format sort by time). */
function dataUpdatedAt(report: Report): { dataUpdatedAt?: string } {
  let newest = '';
  for (const time of Object.values(report.db?.ecosystems ?? {})) if (time > newest) newest = time;
  return newest ? { dataUpdatedAt: newest } : {};
}

/** The parts of `trivy image -f json` (schema version 2) a summary reads. */
export interface TrivyReport {
  SchemaVersion?: number;
  CreatedAt?: string;
  ArtifactName: string;
  ArtifactType?: string;
  Metadata?: { RepoTags?: string[]; RepoDigests?: string[]; ImageID?: string };
  Results?: { Target?: string; Vulnerabilities?: { Severity?: string }[] | null }[] | null;
}

/** Trivy's JSON: an object with `ArtifactName` and (when anything was scanned) `Results`. */
export function isTrivyReport(value: unknown): value is TrivyReport {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return typeof v['ArtifactName'] === 'string' && !('tool' in v);
}

/**
 * A Trivy report's repository, digest, date and counts: every entry of every result's `Vulnerabilities` (Trivy
 * leaves ignored findings out of its output, so there is nothing suppressed to skip).
 */
export function trivyInput(report: TrivyReport): Omit<Extract<SummaryInput, { kind: 'read' }>, 'kind' | 'file'> {
  if (report.Results !== undefined && report.Results !== null && !Array.isArray(report.Results)) {
    throw new LadingError('BAD_INPUT', 'Trivy report: Results is not a list');
  }
  const counts = zeros();
  for (const result of report.Results ?? []) {
    const list = result?.Vulnerabilities ?? [];
    if (!Array.isArray(list)) throw new LadingError('BAD_INPUT', 'Trivy report: Vulnerabilities is not a list');
    for (const vulnerability of list) counts[severityKey(vulnerability?.Severity)] += 1;
  }
  const digest = report.Metadata?.RepoDigests?.[0]?.split('@')[1];
  return {
    name: trivyName(report) ?? report.ArtifactName,
    ...(digest ? { digest } : {}),
    createdAt: typeof report.CreatedAt === 'string' ? report.CreatedAt : '',
    counts,
  };
}

/**
 * The repository of a reference: without a digest (`@sha256:…`) and without a tag (a `:` after the last `/`, so a
 * registry port stays). `ghcr.io/acme/api:1.2@sha256:ab` → `ghcr.io/acme/api`.
 */
export function repositoryName(ref: string): string {
  const at = ref.indexOf('@');
  const withoutDigest = at >= 0 ? ref.slice(0, at) : ref;
  const colon = withoutDigest.lastIndexOf(':');
  return colon > withoutDigest.lastIndexOf('/') ? withoutDigest.slice(0, colon) : withoutDigest;
}

function trivyName(report: TrivyReport): string | undefined {
  const ref = report.Metadata?.RepoTags?.[0] ?? report.Metadata?.RepoDigests?.[0] ?? report.ArtifactName;
  return typeof ref === 'string' && ref ? repositoryName(ref) : undefined;
}

/** The repository of a document that looked like a Lading report but was refused, when it names its target. */
function ladingName(value: unknown): string | undefined {
  const target = (value as { target?: { ref?: unknown; repoTags?: unknown } } | null)?.target;
  const tag = Array.isArray(target?.repoTags) ? target.repoTags[0] : undefined;
  const ref = typeof tag === 'string' ? tag : target?.ref;
  return typeof ref === 'string' && ref ? repositoryName(ref) : undefined;
}

function unread(file: string, name: string, err: unknown): SummaryInput {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reason =
    err instanceof LadingError
      ? err.message.replace(`${file}: `, '')
      : code === 'ENOENT'
        ? 'no such file'
        : (code ?? thrownValueText(err));
  return { kind: 'unread', file, name, reason };
}

function severityKey(severity: string | undefined): keyof SeverityCounts {
  switch (severity) {
    case 'CRITICAL':
      return 'critical';
    case 'HIGH':
      return 'high';
    case 'MEDIUM':
      return 'medium';
    case 'LOW':
      return 'low';
    default:
      return 'unknown';
  }
}

function zeros(): SeverityCounts {
  return { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
}

/**
 * Reads the summary a new one follows (`--previous`). Unlike a report, a named previous summary that cannot be
 * read or is not a v3 summary is an error: continuing without it would silently restart the trend and zero the delta.
 */
export async function loadWeeklySummary(file: string): Promise<WeeklySummary> {
  const value = await readJsonDocument(file, 'summary');
  // Formats are not checked (no ajv-formats here); the shape is what a summary must keep.
  const ajv = new Ajv({ allErrors: false, strict: false, validateFormats: false, logger: false });
  const validate = ajv.compile(WEEKLY_SUMMARY_SCHEMA);
  if (!validate(value)) {
    const error = validate.errors?.[0];
    throw new LadingError(
      'BAD_INPUT',
      `${file}: not a weekly summary v3: ${error ? `${error.instancePath || '/'} ${error.message ?? ''}`.trim() : 'invalid'}`,
    );
  }
  return value as WeeklySummary;
}
