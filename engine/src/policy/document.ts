import { readFile } from 'node:fs/promises';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { LadingError } from '../errors/lading-error.js';

/** The size above which a policy or VEX file is refused: they are hand-written documents, not data dumps. */
const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

export interface LoadedDocument {
  value: unknown;
  /** `file:line:col` of a JSON pointer-like path inside the document, for error messages. */
  where(path: readonly (string | number)[]): string;
}

/**
 * Reads a YAML or JSON file (JSON is YAML 1.2) keeping source positions, so a bad field can be reported as
 * `policy.yaml:12:5: rules[2].severity: must be one of …` (exit 2).
 */
export async function loadDocument(file: string, what: string): Promise<LoadedDocument> {
  let text: string;
  try {
    const buf = await readFile(file);
    if (buf.length > MAX_DOCUMENT_BYTES) throw new LadingError('CONFIG', `${what} ${file}: larger than 16 MiB`);
    text = buf.toString('utf8');
  } catch (err) {
    if (err instanceof LadingError) throw err;
    throw new LadingError(
      'CONFIG',
      `cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0] ?? lines.linePos(first.pos[0]);
    throw new LadingError(
      'CONFIG',
      `${file}:${pos ? `${pos.line}:${pos.col}` : '?'}: invalid ${what}: ${first.message.split('\n')[0]}`,
    );
  }
  const where = (path: readonly (string | number)[]) => {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) {
        const p = lines.linePos(node.range[0]);
        return `${file}:${p.line}:${p.col}`;
      }
    }
    return file;
  };
  return { value: doc.toJS({ maxAliasCount: 100 }), where };
}

/** Validates against a JSON Schema; the first error becomes one line naming the line and the field. */
export function validateDocument(doc: LoadedDocument, validate: ValidateFunction, what: string): void {
  if (validate(doc.value)) return;
  const errors = validate.errors ?? [];
  // The most specific error is the most useful: if/then schemas report the generic ones too.
  const best = [...errors].sort((a, b) => depth(b) - depth(a) || rank(a) - rank(b))[0];
  if (!best) throw new LadingError('CONFIG', `${doc.where([])}: invalid ${what}`);
  const path = pathOf(best);
  throw new LadingError('CONFIG', `${doc.where(path)}: invalid ${what}: ${fieldName(path)}${describe(best)}`);
}

export function compileSchema(schema: object): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: false });
  return ajv.compile(schema);
}

function pathOf(e: ErrorObject): (string | number)[] {
  const parts = e.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  if (e.keyword === 'additionalProperties') parts.push(String(e.params['additionalProperty']));
  return parts;
}

function fieldName(path: (string | number)[]): string {
  if (path.length === 0) return '';
  return `${path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('')}: `;
}

function describe(e: ErrorObject): string {
  switch (e.keyword) {
    case 'additionalProperties':
      return 'unknown field';
    case 'enum':
      return `must be one of ${(e.params['allowedValues'] as unknown[]).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(e.params['allowedValue'])}`;
    case 'required':
      return `missing required field "${e.params['missingProperty']}"`;
    default:
      return e.message ?? e.keyword;
  }
}

function depth(e: ErrorObject): number {
  return e.instancePath.split('/').length + (e.keyword === 'additionalProperties' ? 1 : 0);
}

function rank(e: ErrorObject): number {
  // Prefer errors that name the fix over the structural ones from if/then/anyOf.
  return ['if', 'anyOf', 'allOf', 'oneOf'].includes(e.keyword) ? 1 : 0;
}
