/**
 * os-release → OSV ecosystem string, per docs/specs.md, "OS release → OSV ecosystem" (osv-schema ecosystems.json
 * rules; osv-scalibr's mapping where ecosystems.json leaves room). Undefined where OSV has no ecosystem for the
 * distribution or the release cannot be told: matching against a wrong release is worse than not matching.
 */
export interface ReleaseFacts {
  id: string;
  versionId?: string;
  prettyName?: string;
  codename?: string;
  cpeName?: string;
}

const DEBIAN_CODENAMES: Record<string, string> = {
  jessie: '8',
  stretch: '9',
  buster: '10',
  bullseye: '11',
  bookworm: '12',
  trixie: '13',
  forky: '14',
};

const UBUNTU_CODENAMES: Record<string, string> = {
  precise: '12.04',
  trusty: '14.04',
  xenial: '16.04',
  bionic: '18.04',
  focal: '20.04',
  jammy: '22.04',
  kinetic: '22.10',
  lunar: '23.04',
  mantic: '23.10',
  noble: '24.04',
  oracular: '24.10',
  plucky: '25.04',
  questing: '25.10',
  resolute: '26.04',
};

export function debianNumericVersion(facts: ReleaseFacts): string | undefined {
  const major = facts.versionId?.match(/^(\d+)/)?.[1];
  if (major) return major;
  return facts.codename ? DEBIAN_CODENAMES[facts.codename] : undefined;
}

export function ubuntuVersion(facts: ReleaseFacts): string | undefined {
  if (facts.versionId && /^\d+\.\d+/.test(facts.versionId)) return facts.versionId.match(/^\d+\.\d+/)?.[0];
  return facts.codename ? UBUNTU_CODENAMES[facts.codename] : undefined;
}

/** Ubuntu LTS releases are the April releases of even years (6.06 aside). */
export function isUbuntuLts(version: string): boolean {
  const m = /^(\d+)\.04$/.exec(version);
  return m !== null && Number(m[1]) % 2 === 0;
}

function major(version: string | undefined): string | undefined {
  return version?.match(/^(\d+)/)?.[1];
}

export function osvEcosystem(facts: ReleaseFacts): string | undefined {
  switch (facts.id) {
    case 'debian': {
      const v = debianNumericVersion(facts);
      return v ? `Debian:${v}` : undefined;
    }
    case 'ubuntu': {
      const v = ubuntuVersion(facts);
      if (!v) return undefined;
      return isUbuntuLts(v) ? `Ubuntu:${v}:LTS` : `Ubuntu:${v}`;
    }
    case 'alpine': {
      const mm = facts.versionId?.match(/^(\d+)\.(\d+)/);
      return mm ? `Alpine:v${mm[1]}.${mm[2]}` : 'Alpine';
    }
    case 'wolfi':
      return 'Wolfi';
    case 'chainguard':
      return 'Chainguard';
    case 'rhel': {
      const cpe = facts.cpeName?.split(':redhat:')[1];
      return cpe ? `Red Hat:${cpe}` : 'Red Hat';
    }
    case 'rocky': {
      const m = major(facts.versionId);
      return m ? `Rocky Linux:${m}` : 'Rocky Linux';
    }
    case 'almalinux': {
      const m = major(facts.versionId);
      return m ? `AlmaLinux:${m}` : 'AlmaLinux';
    }
    case 'sles':
    case 'sles_sap':
    case 'sle-micro':
      // OSV spells the product without the vendor (`SUSE:Linux Enterprise Server 15 SP5`) while PRETTY_NAME
      // starts with it; the matcher then accepts any module of that service pack (SUSE files packages there).
      return facts.prettyName ? `SUSE:${facts.prettyName.replace(/^SUSE\s+/, '')}` : 'SUSE';
    case 'opensuse-leap':
      return facts.versionId ? `openSUSE:Leap ${facts.versionId}` : 'openSUSE';
    case 'opensuse-tumbleweed':
      return 'openSUSE:Tumbleweed';
    case 'azurelinux':
    case 'mariner': {
      const m = major(facts.versionId);
      return m ? `Azure Linux:${m}` : 'Azure Linux';
    }
    case 'photon':
      return facts.versionId ? `Photon OS:${facts.versionId}` : undefined;
    case 'mageia':
      return facts.versionId ? `Mageia:${facts.versionId}` : undefined;
    default:
      return undefined;
  }
}
