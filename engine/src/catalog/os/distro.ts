import type { OsInfo } from '../../model/os.js';

/**
 * The purl `distro=` qualifier: `debian-12`, `ubuntu-22.04`, `alpine-3.19.1` (os-release ID and VERSION_ID).
 * None when the release is unknown (a distroless image without release files): a bare family says nothing.
 */
export function distroQualifier(os: OsInfo | undefined): string | undefined {
  return os?.version ? `${os.family}-${os.version}` : undefined;
}

const DEB_NAMESPACES = new Set(['debian', 'ubuntu']);
const APK_NAMESPACES = new Set(['alpine', 'wolfi', 'chainguard']);
const RPM_NAMESPACES: Record<string, string> = {
  rhel: 'redhat',
  centos: 'centos',
  rocky: 'rocky',
  almalinux: 'almalinux',
  fedora: 'fedora',
  amzn: 'amazon',
  ol: 'oracle',
  sles: 'suse',
  sles_sap: 'suse',
  'sle-micro': 'suse',
  'opensuse-leap': 'opensuse',
  'opensuse-tumbleweed': 'opensuse',
  opensuse: 'opensuse',
  mariner: 'mariner',
  azurelinux: 'azurelinux',
  photon: 'photon',
  mageia: 'mageia',
  openEuler: 'openeuler',
};

/** purl namespace of a deb: the distribution that built it; derivatives keep their own ID, unknown → `debian`. */
export function debNamespace(os: OsInfo | undefined): string {
  if (!os) return 'debian';
  return DEB_NAMESPACES.has(os.family) ? os.family : os.family || 'debian';
}

export function apkNamespace(os: OsInfo | undefined): string {
  if (os && APK_NAMESPACES.has(os.family)) return os.family;
  return os?.family || 'alpine';
}

/** purl namespace of an rpm: the vendor (purl-spec names: redhat, suse, opensuse, …); undefined when unknown. */
export function rpmNamespace(os: OsInfo | undefined): string | undefined {
  if (!os) return undefined;
  return RPM_NAMESPACES[os.family] ?? (os.family || undefined);
}
