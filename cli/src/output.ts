import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LadingError } from '@lading/engine/errors';

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
  await mkdir(dirname(file), { recursive: true });
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(file);
    out.on('error', (err) => reject(new LadingError('IO', `cannot write ${file}: ${err.message}`, { cause: err })));
    out.end(text, () => resolve());
  });
}
