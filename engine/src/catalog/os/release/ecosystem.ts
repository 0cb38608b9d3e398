import { OS_FAMILIES, type OsFamily } from '../../../model/ecosystems.js';

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

/** The OSV ecosystem prefix of a distribution, from the ecosystem table. */
function prefix(family: OsFamily): string {
  return OS_FAMILIES[family].osv;
}

/** The OSV ecosystem (prefix and release) of a distribution, or undefined where it cannot be told. */
export function osvEcosystem(facts: ReleaseFacts): string | undefined {
  switch (facts.id) {
    case 'debian': {
      const v = debianNumericVersion(facts);
      return v ? `${prefix('debian')}:${v}` : undefined;
    }
    case 'ubuntu': {
      const v = ubuntuVersion(facts);
      if (!v) return undefined;
      return isUbuntuLts(v) ? `${prefix('ubuntu')}:${v}:LTS` : `${prefix('ubuntu')}:${v}`;
    }
    case 'alpine': {
      const mm = facts.versionId?.match(/^(\d+)\.(\d+)/);
      return mm ? `${prefix('alpine')}:v${mm[1]}.${mm[2]}` : prefix('alpine');
    }
    case 'wolfi':
      return prefix('wolfi');
    case 'chainguard':
      return prefix('chainguard');
    case 'rhel': {
      const cpe = facts.cpeName?.split(':redhat:')[1];
      return cpe ? `${prefix('rhel')}:${cpe}` : prefix('rhel');
    }
    case 'rocky': {
      const m = major(facts.versionId);
      return m ? `${prefix('rocky')}:${m}` : prefix('rocky');
    }
    case 'almalinux': {
      const m = major(facts.versionId);
      return m ? `${prefix('almalinux')}:${m}` : prefix('almalinux');
    }
    case 'sles':
    case 'sles_sap':
    case 'sle-micro':
      // OSV spells the product without the vendor (`SUSE:Linux Enterprise Server 15 SP5`) while PRETTY_NAME
      // starts with it; the matcher then accepts any module of that service pack (SUSE files packages there).
      return facts.prettyName ? `${prefix('sles')}:${facts.prettyName.replace(/^SUSE\s+/, '')}` : prefix('sles');
    case 'opensuse-leap':
      return facts.versionId ? `${prefix('opensuse-leap')}:Leap ${facts.versionId}` : prefix('opensuse-leap');
    case 'opensuse-tumbleweed':
      return `${prefix('opensuse-leap')}:Tumbleweed`;
    case 'azurelinux':
    case 'mariner': {
      const m = major(facts.versionId);
      return m ? `${prefix('azurelinux')}:${m}` : prefix('azurelinux');
    }
    case 'photon':
      return facts.versionId ? `${prefix('photon')}:${facts.versionId}` : undefined;
    case 'mageia':
      return facts.versionId ? `${prefix('mageia')}:${facts.versionId}` : undefined;
    default:
      return undefined;
  }
}
