import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describeError, LadingError } from '@lading/engine/errors';
import { formatWarning, type Report, type ScanWarning } from '@lading/engine/model';

export interface OutputSpec {
  format: string;
  /** Undefined means standard output. */
  file?: string;
}

/** Parses repeated `-o FORMAT[=FILE]` values; at most one may go to standard output. */
export function parseOutputSpecs(values: string[], allowed: readonly string[], fallback: string): OutputSpec[] {
  const specs = (values.length ? values : [fallback]).map((value) => {
    const eq = value.indexOf('=');
    const format = (eq === -1 ? value : value.slice(0, eq)).trim();
    const file = eq === -1 ? undefined : value.slice(eq + 1);
    if (!allowed.includes(format)) {
      throw new LadingError('USAGE', `unknown output format "${format}" (choose from ${allowed.join(', ')})`);
    }
    if (file === '') throw new LadingError('USAGE', `-o ${format}=: missing file name`);
    return file === undefined ? { format } : { format, file };
  });
  if (specs.filter((s) => !s.file).length > 1) {
    throw new LadingError(
      'USAGE',
      'only one output format can go to standard output; give the others a file (-o FORMAT=FILE)',
    );
  }
  return specs;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Writes a rendered document where its spec says, streaming to disk. */
export async function writeOutput(spec: OutputSpec, text: string): Promise<void> {
  if (!spec.file || spec.file === '-') {
    await new Promise<void>((resolve, reject) => {
      process.stdout.write(text, (err) => (err ? reject(err) : resolve()));
    });
    return;
  }
  const file = spec.file;
  await mkdir(dirname(file), { recursive: true }).catch((err: unknown) => {
    throw new LadingError('IO', `cannot write ${file}: ${describeError(err)}`, { cause: err });
  });
  // Whole or not at all: a full disk or a read-only folder is exit 3 naming the file, never a truncated report.
  const { writeFileAtomically } = await import('@lading/engine/files');
  await writeFileAtomically(file, text);
}

export interface NoticeOptions {
  /** `-q`: warnings are not printed (gate verdicts and errors still are). */
  quiet?: boolean | undefined;
}

/**
 * The one printer of warnings, for every command: `lading: warning: …` on stderr, nothing under `-q`. Engine
 * warnings (`ScanWarning`) print as `formatWarning` words them; `kind` keeps the policy's own label.
 */
export function printWarnings(
  warnings: readonly (ScanWarning | string)[],
  options: NoticeOptions & { kind?: 'warning' | 'policy warning' } = {},
): void {
  if (options.quiet) return;
  for (const w of warnings) {
    process.stderr.write(`lading: ${options.kind ?? 'warning'}: ${typeof w === 'string' ? w : formatWarning(w)}\n`);
  }
}

/**
 * What `assess` decided, on stderr: expired policy exceptions (always: they change the verdict), the policy's warn
 * rules (not under `-q`), then the gate's notes and the reasons it failed.
 */
export function printVerdict(report: Report, options: NoticeOptions = {}): void {
  for (const e of report.policy?.expiredExceptions ?? []) {
    process.stderr.write(`lading: policy exception for ${e.id} expired on ${e.expires} and no longer applies\n`);
  }
  const warned = (report.policy?.violations ?? []).filter((v) => v.action === 'warn');
  printWarnings(
    warned.map((v) => `${v.rule}: ${v.message}`),
    { ...options, kind: 'policy warning' },
  );
  printGateLines([...(report.gate?.notes ?? []), ...(report.gate?.reasons ?? [])]);
}

/** Gate notes and reasons: one `lading: …` line each, whatever `-q` says (they explain the exit status). */
export function printGateLines(lines: readonly string[]): void {
  for (const line of lines) process.stderr.write(`lading: ${line}\n`);
}
