/**
 * License checks on SPDX expressions, without a full parser: an expression is a disjunction of alternatives,
 * each a conjunction of ids (`MIT OR (Apache-2.0 AND BSD-3-Clause)`). Enough for allow/deny decisions.
 */
export function alternatives(expression: string): string[][] {
  const flat = expression.replace(/[()]/g, ' ');
  return flat
    .split(/\s+OR\s+/i)
    .map((alt) =>
      alt
        .split(/\s+AND\s+/i)
        .map((id) => id.replace(/\s+WITH\s+.*$/i, '').trim())
        .filter(Boolean),
    )
    .filter((alt) => alt.length > 0);
}

/** True when every way of taking the package uses a denied license. */
export function isDenied(licenses: readonly string[], deny: readonly string[]): boolean {
  const denied = new Set(deny.map((d) => d.toLowerCase()));
  return licenses.some((expr) => {
    const alts = alternatives(expr);
    return alts.length > 0 && alts.every((alt) => alt.some((id) => denied.has(id.toLowerCase())));
  });
}

/** True when some alternative of every license expression uses only allowed licenses. */
export function isAllowed(licenses: readonly string[], allow: readonly string[]): boolean {
  const allowed = new Set(allow.map((a) => a.toLowerCase()));
  return licenses.every((expr) => alternatives(expr).some((alt) => alt.every((id) => allowed.has(id.toLowerCase()))));
}
