import type { OsvAffected, OsvRecord } from '../model/osv.js';
import type { Package } from '../model/package.js';

const MODULAR_RELEASE = /\.module[+_]/;

/**
 * Red Hat-family modularity: `nodejs` from the `nodejs:18` stream and the non-modular `nodejs` share a name but
 * not a fix. An advisory naming a module stream applies only to packages whose `rpm.modularitylabel` has that
 * stream; otherwise modular fixes (`.module+el8…`, `.module_el8…` releases) apply only to modular packages and
 * plain fixes only to plain ones.
 *
 * Where the stream is written differs: Red Hat puts it in the package purl (`rpmmod=nodejs:20:…`), some
 * converters in `ecosystem_specific` (`rpm_modularity`, `module`), and AlmaLinux/Rocky only in the advisory
 * title (`Moderate: mariadb:10.3 security update`), which is why the record is an optional argument.
 */
export function moduleStreamMatches(pkg: Package, affected: OsvAffected, record?: OsvRecord): boolean {
  if (pkg.type !== 'rpm') return true;
  const label = pkg.metadata?.['rpm.modularitylabel'];
  const stream = label ? streamOf(label) : undefined;
  const versions = advisoryVersions(affected);
  const advisoryModular = versions.some((v) => MODULAR_RELEASE.test(v));
  const named = moduleOf(affected) ?? (advisoryModular && record ? moduleOfTitle(record) : undefined);
  if (named) return stream !== undefined && stream === streamOf(named);
  if (versions.length === 0) return true;
  const packageModular = !!label || MODULAR_RELEASE.test(pkg.version);
  return advisoryModular === packageModular;
}

/** `name:stream[:version:context]` → `name:stream`. */
function streamOf(label: string): string {
  return label.split(':').slice(0, 2).join(':');
}

function moduleOf(affected: OsvAffected): string | undefined {
  for (const bag of [affected.ecosystem_specific, affected.database_specific]) {
    for (const key of ['rpm_modularity', 'module', 'rpm_module', 'module_stream']) {
      const value = bag?.[key];
      if (typeof value === 'string' && value.includes(':')) return value;
    }
  }
  const purl = affected.package?.purl;
  const rpmmod = purl ? /[?&]rpmmod=([^&#]+)/.exec(purl)?.[1] : undefined;
  if (rpmmod) {
    const decoded = safeDecode(rpmmod);
    if (decoded.includes(':')) return decoded;
  }
  return undefined;
}

/**
 * `Moderate: mariadb:10.3 security, bug fix, and enhancement update` → `mariadb:10.3`. Only a `name:stream`
 * token right after the rating counts, so a CVE id or a time in the text is never taken for a stream.
 */
function moduleOfTitle(record: OsvRecord): string | undefined {
  const m = /^(?:Low|Moderate|Important|Critical):\s+([A-Za-z0-9][\w.+-]*:[\w.+-]+)\s/.exec(record.summary ?? '');
  return m?.[1];
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
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
