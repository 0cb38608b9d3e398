// The patch plan and result: plain data, the same for Debian/Ubuntu, Alpine and RPM images.

export type PatchVerdict = 'apply' | 'needs-scripts' | 'unsatisfied-deps' | 'candidate-not-found';
export type PatchDistro = 'debian' | 'alpine' | 'rpm';

export interface PatchBinary {
  name: string;
  architecture: string;
  installed: string;
  /** The version the repositories offer (absent: none at or above the fix). */
  candidate?: string;
  /** Where the package is downloaded from, and its hash as the verified index lists it. */
  url?: string;
  sha256?: string;
  /** Pulled in because an updated binary depends on a newer version of it (not itself vulnerable). */
  dependency?: boolean;
}

export interface PatchPlanEntry {
  /** The source package (Debian `Source:`, Alpine origin, RPM source name). */
  source: string;
  /** The lowest version that fixes every finding listed. */
  fixedVersion: string;
  /** Finding ids (CVE or advisory) this entry fixes. */
  findings: string[];
  candidateVersion?: string;
  binaries: PatchBinary[];
  /** Maintainer scripts the new packages carry (`libfoo: postinst`): any makes the verdict needs-scripts. */
  scripts: string[];
  /** Conffiles the new packages ship. */
  conffiles: string[];
  /** Triggers the new packages declare (`libfoo: activate-noawait ldconfig`). */
  triggers: string[];
  /** Dependencies the new packages have that neither the image nor the repositories satisfy. */
  unsatisfied: string[];
  verdict: PatchVerdict;
  /** One line saying why, for every verdict but apply. */
  reason?: string;
}

export interface PatchPlan {
  target: { ref: string; digest?: string };
  distro: PatchDistro;
  /** The repositories consulted (URL and suite or branch). */
  repositories: string[];
  entries: PatchPlanEntry[];
}

/** One package the patch layer installed: what provenance lists as a resolved dependency. */
export interface PatchedPackage {
  name: string;
  architecture: string;
  from: string;
  to: string;
  url: string;
  sha256: string;
}

export interface PatchResult {
  plan: PatchPlan;
  manifestDigest: string;
  configDigest: string;
  layer: { digest: string; diffId: string; size: number };
  patched: PatchedPackage[];
  /** Conffiles the image had modified: kept, with the new version written beside them as `<path>.dpkg-dist`. */
  keptConffiles: string[];
  /** Provenance-ready: SLSA v1 `resolvedDependencies` entries for each downloaded package. */
  resolvedDependencies: { uri: string; digest: { sha256: string }; name: string }[];
}

/** What a patch works from: each vulnerable installed package and the versions that fix it. */
export interface FixableFinding {
  id: string;
  /** Installed binary package name. */
  package: string;
  version: string;
  /** Versions that fix it on each branch, lowest first. */
  fixedVersions: string[];
}
