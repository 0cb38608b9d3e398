/**
 * One copy of each repeated string (architectures, dependency and source names) across a database's packages.
 * Substrings cut out of a field keep the whole field alive in V8; the first occurrence is stored as a flat copy,
 * so 200 000 packages share a few thousand names instead of each holding its Depends line.
 */
export class Interner {
  private readonly strings = new Map<string, string>();

  intern(value: string): string {
    const known = this.strings.get(value);
    if (known !== undefined) return known;
    const flat = flatString(value);
    this.strings.set(flat, flat);
    return flat;
  }
}

/**
 * A flat copy of a string built by concatenation (purls): V8 keeps such a string as a tree of its pieces, several
 * times the size of its characters, for as long as the package lives.
 */
export function flatString(value: string): string {
  return Buffer.from(value, 'utf8').toString('utf8');
}
