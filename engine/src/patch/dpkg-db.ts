// The image's dpkg database as patching reads and rewrites it: `var/lib/dpkg/status` (one stanza per package) or,
// in distroless images, one file per package under `var/lib/dpkg/status.d/` (with `<name>.md5sums` beside it).
import { field, fieldLines, parseStanzas, type Stanza } from './control.js';
import type { RootView } from './rootfs.js';

export const STATUS = 'var/lib/dpkg/status';
export const STATUS_D = 'var/lib/dpkg/status.d';
export const INFO = 'var/lib/dpkg/info';

export interface InstalledDeb {
  name: string;
  version: string;
  architecture: string;
  source: string;
  stanza: Stanza;
  /** `name:arch` for `Multi-Arch: same` packages: the name of its files under `info/`. */
  infoName: string;
  /** Conffile path (absolute, as dpkg records it) → md5 of the version installed. */
  conffiles: Map<string, string>;
  /** Where the stanza lives: the status file, or its file under status.d. */
  location: { kind: 'status' } | { kind: 'status.d'; file: string };
}

/** Installed packages (`Status: … installed`, or every stanza of status.d, which records no Status). */
export function installedDebs(view: RootView): InstalledDeb[] {
  const out: InstalledDeb[] = [];
  const status = view.content(STATUS);
  if (status) {
    for (const stanza of parseStanzas(status.toString('utf8'))) {
      const state = field(stanza, 'Status') ?? '';
      if (!state.endsWith(' installed')) continue;
      const deb = describe(stanza, { kind: 'status' });
      if (deb) out.push(deb);
    }
  }
  for (const file of view.children(STATUS_D)) {
    if (file.endsWith('.md5sums')) continue;
    const content = view.content(file);
    if (!content) continue;
    for (const stanza of parseStanzas(content.toString('utf8'))) {
      const deb = describe(stanza, { kind: 'status.d', file });
      if (deb) out.push(deb);
    }
  }
  return out;
}

function describe(stanza: Stanza, location: InstalledDeb['location']): InstalledDeb | undefined {
  const name = field(stanza, 'Package');
  const version = field(stanza, 'Version');
  if (!name || !version) return undefined;
  const architecture = field(stanza, 'Architecture') ?? 'all';
  const source = (field(stanza, 'Source') ?? name).split(/\s+/)[0] as string;
  const conffiles = new Map<string, string>();
  for (const line of fieldLines(stanza, 'Conffiles')) {
    const [path, md5, ...flags] = line.split(/\s+/);
    if (path && md5) conffiles.set(path, [md5, ...flags].join(' '));
  }
  const multiArchSame = (field(stanza, 'Multi-Arch') ?? '') === 'same';
  return {
    name,
    version,
    architecture,
    source,
    stanza,
    infoName: multiArchSame ? `${name}:${architecture}` : name,
    conffiles,
    location,
  };
}

/** Fields in the order dpkg writes a status stanza (others follow in the package's own order). */
const STATUS_ORDER = [
  'Package',
  'Essential',
  'Status',
  'Priority',
  'Section',
  'Installed-Size',
  'Origin',
  'Maintainer',
  'Bugs',
  'Architecture',
  'Multi-Arch',
  'Source',
  'Version',
  'Config-Version',
  'Replaces',
  'Provides',
  'Depends',
  'Pre-Depends',
  'Recommends',
  'Suggests',
  'Breaks',
  'Conflicts',
  'Enhances',
  'Conffiles',
  'Built-Using',
  'Description',
];

/**
 * The stanza dpkg records once a package is unpacked and configured: the new control fields, `Status: install ok
 * installed` (when the database keeps Status), and `Conffiles:` with the md5 of each conffile as the new package
 * ships it (dpkg records the distributed version's hash also when it keeps the admin's modified file).
 */
export function installedStanza(control: Stanza, withStatus: boolean, conffiles: [string, string][]): Stanza {
  const fields = new Map<string, string>();
  for (const [k, v] of control) fields.set(k, v);
  if (withStatus) fields.set('Status', 'install ok installed');
  fields.delete('Conffiles');
  if (conffiles.length > 0) fields.set('Conffiles', `\n${conffiles.map(([p, m]) => ` ${p} ${m}`).join('\n')}`);
  const ordered: Stanza = [];
  for (const name of STATUS_ORDER) {
    const value = fields.get(name);
    if (value !== undefined) ordered.push([name, value]);
  }
  for (const [k, v] of fields) if (!STATUS_ORDER.includes(k)) ordered.push([k, v]);
  return ordered;
}
