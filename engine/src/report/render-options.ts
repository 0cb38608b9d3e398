export interface RenderOptions {
  /** Colour and terminal width for the table (only on a TTY). */
  color: boolean;
  width: number;
  /** Include suppressed findings in human formats. */
  showSuppressed: boolean;
  /**
   * The table's summary view: one line per vulnerable package (its counts by severity, how many are fixable)
   * instead of one per finding, for images whose findings run to thousands of lines.
   */
  summary?: boolean;
  /** CycloneDX spec version for cyclonedx-json. */
  cyclonedxVersion: '1.5' | '1.6' | '1.7';
  /** Fixed time and ids for reproducible SBOMs (SOURCE_DATE_EPOCH). */
  sourceDateEpoch?: number;
}

export const DEFAULT_RENDER_OPTIONS: RenderOptions = {
  color: false,
  width: 120,
  showSuppressed: false,
  cyclonedxVersion: '1.6',
};
