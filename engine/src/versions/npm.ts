import semver from 'semver';
import { type Cmp, checkBasic, invalidVersion, type VersionScheme } from './scheme.js';

/*
 * npm's order is node-semver's (the `semver` package, as npm itself uses it), parsed in loose mode so that the
 * sloppy versions found in old package.json files (`v1.2.3`, `=1.2.3`, `1.2.3beta`) still order as npm orders them.
 */
export const npmScheme: VersionScheme<semver.SemVer> = {
  name: 'npm',
  parse(version) {
    checkBasic('npm', version.trim(), true);
    const parsed = semver.parse(version, { loose: true });
    if (!parsed) throw invalidVersion('npm', version, 'not a semver version');
    return parsed;
  },
  compareParsed: (a, b) => a.compare(b) as Cmp,
  isValid: (version) => semver.valid(version) !== null,
};

/** node-semver's range test (used for npm-style constraint strings, not for OSV events). */
export function npmSatisfies(version: string, range: string, options: semver.RangeOptions = {}): boolean {
  return semver.satisfies(version, range, options);
}
