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

/** Reads a report written by `lading scan -o json`; refuses other documents and newer schema versions. */
export async function loadReport(file: string): Promise<Report> {
  let text: string;
  try {
    text = (await readUserFile(file, MAX_REPORT_BYTES, { label: `report ${file}` })).toString('utf8');
  } catch (err) {
    if (err instanceof LadingError) throw err;
    throw new LadingError(
      'IO',
      `cannot read report ${file}: ${(err as NodeJS.ErrnoException).code ?? thrownValueText(err)}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new LadingError('BAD_INPUT', `${file}: not JSON: ${thrownValueText(err)}`);
  }
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
