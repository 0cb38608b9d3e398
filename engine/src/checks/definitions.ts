import type { Severity } from '../model/finding.js';

/** What a check is, apart from what it found: the SARIF rule and the report entry share it. */
export interface CheckDefinition {
  id: string;
  severity: Severity;
  title: string;
  description: string;
  remediation: string;
}

/** Every image check, in id order. Ids are stable (policy files and SARIF consumers name them) and never reused. */
export const IMAGE_CHECKS = [
  {
    id: 'IMG-001',
    severity: 'HIGH',
    title: 'Runs as root',
    description:
      'The image config sets no USER, or sets root (`root`, `0`, `0:<group>`): a process that breaks out of the application holds root inside the container.',
    remediation: 'Add a non-root user and a `USER <uid>` instruction (numeric ids work with runAsNonRoot).',
  },
  {
    id: 'IMG-002',
    severity: 'MEDIUM',
    title: 'USER not defined in the image',
    description:
      'The config names a USER (or group) by a name that /etc/passwd (or /etc/group) in the image does not define: the container fails to start. Numeric ids need no entry.',
    remediation: 'Create the user in the image (useradd, adduser) or give USER as numeric uid[:gid].',
  },
  {
    id: 'IMG-003',
    severity: 'LOW',
    title: 'Shell present',
    description:
      'A shell (sh, bash, dash, ash, zsh, ksh, busybox…) is in a bin directory: an attacker with code execution gets an interactive foothold.',
    remediation: 'Build the runtime stage from a distroless or scratch base and copy only the application.',
  },
  {
    id: 'IMG-004',
    severity: 'MEDIUM',
    title: 'Package manager present',
    description:
      'A package manager that can install software at run time is present: apt/apt-get/dpkg, apk, rpm/dnf/yum/microdnf/tdnf/zypper, pip or npm.',
    remediation: 'Remove the package managers from the final stage (multi-stage build, distroless base).',
  },
  {
    id: 'IMG-005',
    severity: 'MEDIUM',
    title: 'Setuid or setgid files',
    description: 'Files with the setuid or setgid bit run with their owner’s or group’s rights whoever starts them.',
    remediation: 'Remove the bits (`chmod u-s,g-s`) or the files, unless the application needs them.',
  },
  {
    id: 'IMG-006',
    severity: 'MEDIUM',
    title: 'World-writable files outside tmp',
    description:
      'Files any user may write (mode o+w) outside /tmp, /var/tmp and /dev/shm: any process in the container can change them.',
    remediation: 'Remove the write bit for others (`chmod o-w`) and give write access only to the user that needs it.',
  },
  {
    id: 'IMG-007',
    severity: 'HIGH',
    title: 'Secrets in the image config',
    description:
      'An environment variable, label or history step holds what looks like a credential (a name like *_PASSWORD, *_TOKEN, *SECRET* with a value, or a known key format). Anyone who can pull the image can read it.',
    remediation: 'Pass secrets at run time (secret mounts, orchestrator secrets), rotate the exposed ones and rebuild.',
  },
  {
    id: 'IMG-008',
    severity: 'MEDIUM',
    title: 'Remote content in the build',
    description:
      'A history step adds content from a URL (`ADD https://…`) or pipes a download into a shell (`curl … | sh`): what it fetched is neither pinned nor verified.',
    remediation:
      'Download with a checksum check (`ADD --checksum=…`, or curl then sha256sum -c) or copy from a verified stage.',
  },
  {
    id: 'IMG-009',
    severity: 'LOW',
    title: 'No HEALTHCHECK',
    description: 'The image config has no HEALTHCHECK (or disables it): a hung process keeps looking healthy.',
    remediation: 'Add a `HEALTHCHECK` instruction, or define a liveness probe where the image runs.',
  },
  {
    id: 'IMG-010',
    severity: 'LOW',
    title: 'Package caches left behind',
    description:
      'Package manager caches remain in the image (/var/cache/apt/archives/*.deb, /var/lib/apt/lists, /var/cache/apk, /var/cache/dnf, /var/cache/yum, /root/.cache): larger images and stale indexes.',
    remediation:
      'Clean in the same RUN step (`rm -rf /var/lib/apt/lists/*`, `apk add --no-cache`, `pip --no-cache-dir`).',
  },
  {
    id: 'IMG-011',
    severity: 'LOW',
    title: '`latest` or no tag',
    description:
      'The image is named by the `latest` tag or by no tag at all: what it refers to changes without notice.',
    remediation: 'Tag images with a version (and deploy them by digest).',
  },
  {
    id: 'IMG-012',
    severity: 'HIGH',
    title: 'End-of-life OS',
    description: 'The OS release is past its end of life on the scan date: its vendor no longer fixes vulnerabilities.',
    remediation: 'Rebuild on a supported release of the base image.',
  },
] as const satisfies readonly CheckDefinition[];

export type ImageCheckId = (typeof IMAGE_CHECKS)[number]['id'];

export const IMAGE_CHECK_IDS: readonly string[] = IMAGE_CHECKS.map((c) => c.id);

export function checkDefinition(id: string): CheckDefinition | undefined {
  return IMAGE_CHECKS.find((c) => c.id === id);
}
