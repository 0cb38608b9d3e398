/** `*` matches any run of characters; everything else is literal. Case-sensitive, as purls are. */
export function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

/**
 * A package pattern is a purl pattern when it starts with `pkg:`, else a package name (with `*` allowed).
 * A purl pattern without `@` or `?` also matches any version and qualifiers of that package.
 */
export function matchesPackagePattern(pattern: string, pkg: { name: string; purl: string }): boolean {
  if (!pattern.startsWith('pkg:')) return globToRegExp(pattern).test(pkg.name);
  if (globToRegExp(pattern).test(pkg.purl)) return true;
  if (!pattern.includes('@') && !pattern.includes('?')) {
    const bare = pkg.purl.replace(/[@?#].*$/, '');
    return globToRegExp(pattern).test(bare);
  }
  return false;
}
