// Repository patterns: the globs that narrow tokens and team grants (`ghcr.io/acme/*`, `docker.io/library/nginx`).
// `*` matches any run of characters, `/` included, so `ghcr.io/acme/*` covers nested repositories such as
// `ghcr.io/acme/payments/api`; every other character is literal. Names are compared in lower case because registry
// hosts are case-insensitive and OCI repository paths are lower case by definition.

/** The longest pattern accepted: a repository reference is at most 255 characters in the distribution spec. */
export const MAX_PATTERN_LENGTH = 255;

const PATTERN_CHARACTERS = /^[a-z0-9._\-/:*]+$/;

/** Why `pattern` is not a usable repository pattern, or undefined when it is. */
export function repositoryPatternProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return 'the repository pattern is empty';
  if (pattern.length > MAX_PATTERN_LENGTH)
    return `the repository pattern is longer than ${MAX_PATTERN_LENGTH} characters`;
  if (!PATTERN_CHARACTERS.test(pattern.toLowerCase())) {
    return 'the repository pattern may hold only letters, digits, ".", "_", "-", "/", ":" and "*"';
  }
  return undefined;
}

/** Whether repository `name` matches `pattern`. Linear-time two-pointer glob match (no regular expression, no backtracking blow-up). */
export function repositoryPatternMatches(pattern: string, name: string): boolean {
  return globMatches(pattern.toLowerCase(), name.toLowerCase(), false);
}

/**
 * Whether every name matching `inner` also matches `outer`: a token's pattern must lie inside its owner's grants.
 * `inner`'s own `*` can only be absorbed by a `*` of `outer`, which makes this check sound (it never says yes
 * wrongly) for star-only globs.
 */
export function repositoryPatternCovers(outer: string, inner: string): boolean {
  return globMatches(outer.toLowerCase(), inner.toLowerCase(), true);
}

function globMatches(pattern: string, text: string, textStarsAreWild: boolean): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    const pc = pattern[p];
    const tc = text[t];
    if (pc === '*') {
      starP = p++;
      starT = t;
    } else if (pc !== undefined && pc === tc && !(textStarsAreWild && tc === '*')) {
      p++;
      t++;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}
