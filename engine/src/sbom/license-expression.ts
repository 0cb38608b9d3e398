import { SPDX_LICENSE_IDS } from './spdx-license-ids.js';

/** How a license string found in a package can be written in an SBOM. */
export type LicenseForm =
  | { kind: 'id'; id: string }
  | { kind: 'expression'; expression: string }
  | { kind: 'name'; name: string };

const LICENSE_REF = /^(DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$/;
const EXCEPTION_ID = /^[A-Za-z0-9][A-Za-z0-9.-]*$/;
/** Expressions longer than this are not parsed: catalogers' license texts can be whole files. */
const MAX_EXPRESSION_CHARS = 4096;

/** One SPDX id (canonical spelling), a valid SPDX expression (normalized spacing), or a free-text name. */
export function classifyLicense(text: string): LicenseForm {
  const trimmed = text.trim();
  const id = canonicalId(trimmed);
  if (id) return { kind: 'id', id };
  const expression = normalizeExpression(trimmed);
  if (expression) return { kind: 'expression', expression };
  return { kind: 'name', name: trimmed };
}

/** The list's spelling of a single license id (or a LicenseRef), else undefined. */
export function canonicalId(text: string): string | undefined {
  if (LICENSE_REF.test(text)) return text;
  return SPDX_LICENSE_IDS.get(text.toLowerCase());
}

/**
 * Parses an SPDX license expression (SPDX 2.3 annex D: ids with optional `+`, `WITH` exceptions, `AND`, `OR`,
 * parentheses) and returns it with canonical ids and single spaces, or undefined when it is not one.
 */
export function normalizeExpression(text: string): string | undefined {
  if (text.length === 0 || text.length > MAX_EXPRESSION_CHARS) return undefined;
  const all = text.match(/\(|\)|[^\s()]+/g);
  if (!all) return undefined;
  const tokens = withoutOuterParens(all);
  let pos = 0;
  const peek = (): string | undefined => tokens[pos];

  function simple(): string | undefined {
    const token = peek();
    if (token === undefined) return undefined;
    const plus = token.endsWith('+') && token.length > 1;
    const id = canonicalId(plus ? token.slice(0, -1) : token);
    if (!id) return undefined;
    pos++;
    let out = plus ? `${id}+` : id;
    if (peek()?.toUpperCase() === 'WITH') {
      pos++;
      const exception = peek();
      if (exception === undefined || !EXCEPTION_ID.test(exception)) return undefined;
      pos++;
      out += ` WITH ${SPDX_LICENSE_IDS.get(exception.toLowerCase()) ?? exception}`;
    }
    return out;
  }

  function primary(depth: number): string | undefined {
    if (peek() === '(') {
      if (depth > 64) return undefined;
      pos++;
      const inner = orExpr(depth + 1);
      if (inner === undefined || peek() !== ')') return undefined;
      pos++;
      return `(${inner})`;
    }
    return simple();
  }

  function andExpr(depth: number): string | undefined {
    let left = primary(depth);
    while (left !== undefined && peek()?.toUpperCase() === 'AND') {
      pos++;
      const right = primary(depth);
      left = right === undefined ? undefined : `${left} AND ${right}`;
    }
    return left;
  }

  function orExpr(depth: number): string | undefined {
    let left = andExpr(depth);
    while (left !== undefined && peek()?.toUpperCase() === 'OR') {
      pos++;
      const right = andExpr(depth);
      left = right === undefined ? undefined : `${left} OR ${right}`;
    }
    return left;
  }

  const result = orExpr(0);
  return result !== undefined && pos === tokens.length ? result : undefined;
}

/** `(MIT OR Apache-2.0)` → `MIT OR Apache-2.0`: parentheses around the whole expression say nothing. */
function withoutOuterParens(tokens: string[]): string[] {
  let out = tokens;
  while (out.length > 2 && out[0] === '(' && out[out.length - 1] === ')') {
    let depth = 0;
    let closesAtEnd = true;
    for (let i = 0; i < out.length - 1; i++) {
      if (out[i] === '(') depth++;
      else if (out[i] === ')') depth--;
      if (depth === 0) {
        closesAtEnd = false;
        break;
      }
    }
    if (!closesAtEnd) break;
    out = out.slice(1, -1);
  }
  return out;
}
