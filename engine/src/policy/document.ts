import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { type Document, isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { LadingError, thrownValueText } from '../errors/lading-error.js';
import { readUserFile } from '../image/sources/regular-file.js';

/**
 * The size above which a policy or VEX file is refused: they are hand-written documents, not data dumps, and a
 * parsed YAML document costs tens of times its size in memory.
 */
export const MAX_POLICY_BYTES = 1024 * 1024;
/** VEX files are sometimes exported by a tool, one statement per finding: room for tens of thousands. */
export const MAX_VEX_BYTES = 8 * 1024 * 1024;
/**
 * Deeper nesting than this is refused before parsing: no policy or VEX field is nested more than a few levels, and
 * a parser or validator walking a deeper tree may exhaust the stack.
 */
export const MAX_DOCUMENT_DEPTH = 64;
/** Leading spaces beyond this are as deep as block YAML gets at any indentation people use. */
const MAX_INDENT_COLUMNS = 4 * MAX_DOCUMENT_DEPTH;
/** Aliases (`*name`) expanded at most: a few are convenient, thousands are an alias bomb. */
const MAX_ALIASES = 100;

export interface LoadedDocument {
  value: unknown;
  /** `file:line:col` of a JSON pointer-like path inside the document, for error messages. */
  where(path: readonly (string | number)[]): string;
}

/**
 * Reads a YAML or JSON file (JSON is YAML 1.2) keeping source positions, so a bad field can be reported as
 * `policy.yaml:12:5: rules[2].severity: must be one of …` (exit 2).
 */
export async function loadDocument(
  file: string,
  what: string,
  maxBytes: number = MAX_POLICY_BYTES,
): Promise<LoadedDocument> {
  let text: string;
  try {
    // a regular file only, read up to its cap: a pipe or /dev/zero named as a policy fails at once
    text = (await readUserFile(file, maxBytes, { label: `${what} ${file}` })).toString('utf8');
  } catch (err) {
    if (err instanceof LadingError) throw new LadingError('CONFIG', err.message, { cause: err });
    throw new LadingError(
      'CONFIG',
      `cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? thrownValueText(err)}`,
    );
  }
  const lines = new LineCounter();
  const tooDeep = nestingProblem(text);
  if (tooDeep) throw new LadingError('CONFIG', `${file}:${tooDeep.line}: invalid ${what}: ${tooDeep.message}`);
  // Duplicate keys are checked below in one pass: the parser's own check compares every key of a map with every
  // other (80,000 keys took a minute).
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0] ?? lines.linePos(first.pos[0]);
    throw new LadingError(
      'CONFIG',
      `${file}:${pos ? `${pos.line}:${pos.col}` : '?'}: invalid ${what}: ${first.message.split('\n')[0]}`,
    );
  }
  const duplicate = firstDuplicateKey(doc);
  if (duplicate) {
    const p = lines.linePos(duplicate.offset);
    throw new LadingError('CONFIG', `${file}:${p.line}:${p.col}: invalid ${what}: Map keys must be unique`);
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
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    // an alias bomb (`Excessive alias count`) or a cycle: the document's fault, a usage error naming it
    throw new LadingError('CONFIG', `${file}: invalid ${what}: ${thrownValueText(err).split('\n')[0]}`);
  }
  return { value, where };
}

/**
 * How deep a YAML or JSON text nests, judged from its characters before any parsing: flow brackets (`[`, `{`) open
 * levels, and in block style each line's indentation and leading `- ` entries are its depth. Quotes are not
 * tracked, so a bracket inside a string counts too: the limit is far above any real document's depth.
 */
function nestingProblem(text: string): { line: number; message: string } | undefined {
  let depth = 0;
  let line = 1;
  let lineStart = true;
  let indent = 0;
  const tooDeep = () => ({ line, message: `nested deeper than ${MAX_DOCUMENT_DEPTH} levels` });
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line++;
      lineStart = true;
      indent = 0;
      continue;
    }
    if (lineStart) {
      // spaces, and `- ` / `? ` / `: ` indicators that open a block collection on the same line
      if (c === 32 || ((c === 45 || c === 63 || c === 58) && text.charCodeAt(i + 1) === 32)) {
        indent += c === 32 ? 1 : 4;
        if (indent > MAX_INDENT_COLUMNS) return tooDeep();
        continue;
      }
      lineStart = false;
    }
    if (c === 91 || c === 123) {
      if (++depth > MAX_DOCUMENT_DEPTH) return tooDeep();
    } else if ((c === 93 || c === 125) && depth > 0) depth--;
  }
  return undefined;
}

/** The first key that repeats in its map, in one pass over the tree (no recursion: the depth is bounded anyway). */
function firstDuplicateKey(doc: Document): { offset: number } | undefined {
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? `s:${String(pair.key.value)}` : undefined;
        if (key !== undefined) {
          if (seen.has(key)) return { offset: isNode(pair.key) ? (pair.key.range?.[0] ?? 0) : 0 };
          seen.add(key);
        }
        stack.push(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    }
  }
  return undefined;
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
