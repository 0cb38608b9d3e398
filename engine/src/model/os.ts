export interface OsInfo {
  /** os-release ID: `debian`, `ubuntu`, `alpine`, `rhel`, `rocky`, `almalinux`, `amzn`, `sles`, `opensuse-leap`, `wolfi`, `chainguard`, `azurelinux`, `mariner`, … */
  family: string;
  /** VERSION_ID, or the release file's version. */
  version: string;
  /** PRETTY_NAME where given. */
  name?: string;
  /** The OSV ecosystem string the OS packages are matched in (`Debian:12`, `Alpine:v3.19`, `Ubuntu:22.04:LTS`). */
  ecosystem?: string;
  /** ISO date after which the vendor no longer patches the release, where known. */
  eolDate?: string;
  /** True when the release is past its end of life on the report's date (or the assessment's: `assess`). */
  eol?: boolean;
  /**
   * The end-of-life verdict in words, set with `eol` when the report is judged: `unknown` when no date is known for
   * the release (say so, never stay silent), `rolling` for distributions without releases (Wolfi, Chainguard).
   */
  eolStatus?: EolStatus;
}

export type EolStatus = 'supported' | 'end-of-life' | 'unknown' | 'rolling';
