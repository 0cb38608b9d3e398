import { LadingError, thrownValueText } from '../errors/lading-error.js';
import { readUserFile } from '../image/sources/regular-file.js';
import { REPORT_SCHEMA_VERSION, type Report } from '../model/report.js';

/**
 * A report read back (`--baseline`, `diff`): a large image's report is tens of MB; parsed JSON costs several times
 * its size, so this keeps the parse well under 1 GB.
 */
export const MAX_REPORT_BYTES = 128 * 1024 * 1024;

/** True for a file that is a Lading JSON report (and not, say, an SBOM), judged from its first bytes. */
export function looksLikeReport(text: string): boolean {
  return (
    /^\s*\{/.test(text) && /"schemaVersion"\s*:/.test(text.slice(0, 4096)) && /"tool"\s*:/.test(text.slice(0, 4096))
  );
}

/**
 * A JSON document a user named (a report, a summary), read up to `MAX_REPORT_BYTES`: IO errors (exit 3) say which
 * `kind` of file could not be read, and text that is not JSON is BAD_INPUT naming the file.
 */
export async function readJsonDocument(file: string, kind: string): Promise<unknown> {
  let text: string;
  try {
    text = (await readUserFile(file, MAX_REPORT_BYTES, { label: `${kind} ${file}` })).toString('utf8');
  } catch (err) {
    if (err instanceof LadingError) throw err;
    throw new LadingError(
      'IO',
      `cannot read ${kind} ${file}: ${(err as NodeJS.ErrnoException).code ?? thrownValueText(err)}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new LadingError('BAD_INPUT', `${file}: not JSON: ${thrownValueText(err)}`);
  }
}

/** Reads a report written by `lading scan -o json`; refuses other documents and newer schema versions. */
export async function loadReport(file: string): Promise<Report> {
  const value = await readJsonDocument(file, 'report');
  const report = value as Partial<Report>;
  if (
    !report ||
    typeof report !== 'object' ||
    report.tool?.name !== 'lading' ||
    typeof report.schemaVersion !== 'number'
  ) {
    throw new LadingError(
      'BAD_INPUT',
      `${file}: not a Lading JSON report (write one with \`lading scan -o json=FILE\`)`,
    );
  }
  if (report.schemaVersion > REPORT_SCHEMA_VERSION) {
    throw new LadingError(
      'BAD_INPUT',
      `${file}: report schema ${report.schemaVersion} is newer than this Lading understands (${REPORT_SCHEMA_VERSION})`,
    );
  }
  if (!Array.isArray(report.packages) || !Array.isArray(report.findings) || !report.target) {
    throw new LadingError('BAD_INPUT', `${file}: report lacks packages, findings or target`);
  }
  return report as Report;
}
