import type { OsvAffected } from '../model/osv.js';
import type { Package } from '../model/package.js';

const MODULAR_RELEASE = /\.module[+_]/;

/**
 * Red Hat-family modularity: `nodejs` from the `nodejs:18` stream and the non-modular `nodejs` share a name but
 * not a fix. An advisory naming a module (`ecosystem_specific.module`, `name:stream`) applies only to packages
 * whose `rpm.modularitylabel` has that stream; otherwise modular fixes (`.module+el8…` releases) apply only to
 * modular packages and plain fixes only to plain ones.
 */
export function moduleStreamMatches(pkg: Package, affected: OsvAffected): boolean {
  if (pkg.type !== 'rpm') return true;
  const label = pkg.metadata?.['rpm.modularitylabel'];
  const stream = label ? label.split(':').slice(0, 2).join(':') : undefined;
  const named = moduleOf(affected);
  if (named) return stream !== undefined && stream === named.split(':').slice(0, 2).join(':');
  const versions = advisoryVersions(affected);
  if (versions.length === 0) return true;
  const advisoryModular = versions.some((v) => MODULAR_RELEASE.test(v));
  const packageModular = !!label || MODULAR_RELEASE.test(pkg.version);
  return advisoryModular === packageModular;
}

function moduleOf(affected: OsvAffected): string | undefined {
  for (const bag of [affected.ecosystem_specific, affected.database_specific]) {
    for (const key of ['module', 'rpm_module', 'module_stream']) {
      const value = bag?.[key];
      if (typeof value === 'string' && value.includes(':')) return value;
    }
  }
  return undefined;
}

function advisoryVersions(affected: OsvAffected): string[] {
  const out: string[] = [];
  for (const range of affected.ranges ?? []) {
    for (const event of range.events) {
      const value = Object.values(event)[0];
      if (typeof value === 'string' && value !== '0') out.push(value);
    }
  }
  return out;
}
