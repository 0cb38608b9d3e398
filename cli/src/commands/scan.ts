import { LadingError } from '@lading/engine/errors';
import type { Report } from '@lading/engine/model';
import type { RenderOptions } from '@lading/engine/report';
import type { Command } from 'commander';
import { autoUpdater } from '../data-update.js';
import { withDeadline } from '../deadline.js';
import {
  allowMissingDataFrom,
  dbDirFrom,
  dockerConfigPathFrom,
  imageOptionsFrom,
  inflateThreadsFrom,
  offlineFrom,
  sbomMaxBytesFrom,
  skipDbUpdateFrom,
  sourceDateEpochFrom,
} from '../environment.js';
import { collect, type OutputSpec, parseOutputSpecs, printVerdict, printWarnings, writeOutput } from '../output.js';
import { progressLine } from '../progress.js';
import { resultCacheFrom } from '../result-cache-options.js';

/**
 * The `-o` format names for the help text. The renderers themselves (REPORT_FORMATS) load only when a command runs,
 * so `lading --help` and every other command start fast; test/cli/lazy-startup.test.ts keeps the two lists equal.
 */
export const OUTPUT_FORMAT_NAMES = [
  'table',
  'json',
  'cyclonedx-json',
  'spdx-json',
  'sarif',
  'junit',
  'markdown',
  'gitlab-cs',
];

export interface ScanFlags {
  output: string[];
  sbomOnly?: boolean;
  severity?: string;
  ignoreUnfixed?: boolean;
  failOn?: string;
  platform?: string;
  insecureRegistry: string[];
  dbDir?: string;
  offline?: boolean;
  quiet?: boolean;
  cyclonedxVersion: string;
  showSuppressed?: boolean;
  /** `--summary`: the table's one-line-per-package view. */
  summary?: boolean;
  maxFileSize?: string;
  maxImageSize?: string;
  verifyDiffIds?: boolean;
  /** False under --no-checks. */
  checks?: boolean;
  /** False under --no-cache. */
  cache?: boolean;
  cacheDir?: string;
  policy?: string;
  vex?: string[];
  baseline?: string;
  baselineSeverity?: string;
  baselineUpdate?: string;
  allowMissingData?: boolean;
  skipDbUpdate?: boolean;
  /** False under --no-secrets. */
  secrets?: boolean;
}

export function registerScan(program: Command): void {
  const cmd = program
    .command('scan')
    .description('catalog an image, root filesystem or SBOM and match it against vulnerability data')
    .argument('<target>', 'registry ref, docker-archive:, oci:, oci-archive:, dir:, sbom: or a path');
  addTargetOptions(cmd);
  cmd
    .option('--sbom-only', 'catalog only; do not match vulnerabilities')
    .option('--no-secrets', "do not scan the image's layers for secrets (the report's secrets)")
    .option(
      '--allow-missing-data',
      'match what there is vulnerability data for and report the other packages as not checked, instead of exit 3 (env LADING_ALLOW_MISSING_DATA=1)',
    )
    .option(
      '--skip-db-update',
      'use the local vulnerability data as it is: no download of missing data or refresh of data older than a day (env LADING_SKIP_DB_UPDATE=1)',
    )
    .option('--severity <list>', 'only report these severities (comma-separated)')
    .option('--ignore-unfixed', 'drop findings that have no fixed version')
    .option('--fail-on <severity>', 'exit 1 when a finding at or above this severity remains')
    .option('--show-suppressed', 'show suppressed findings in human-readable formats')
    .option('--summary', 'table: one line per vulnerable package (counts by severity, fixable), not one per finding')
    .option(
      '--policy <file>',
      'policy file (YAML or JSON; see schemas/policy.schema.json): exit 1 when a fail rule is hit',
    )
    .option(
      '--vex <file>',
      'OpenVEX or CycloneDX VEX document; not_affected/fixed findings are suppressed; repeatable',
      collect,
      [],
    )
    .option(
      '--baseline <report>',
      'earlier JSON report: exit 1 on a new CRITICAL or when findings at --baseline-severity rise',
    )
    .option('--baseline-severity <severity>', 'threshold for the baseline count', 'high')
    .option('--baseline-update <file>', 'write this scan as the new baseline (JSON) when every gate passed')
    .action(async (target: string, flags: ScanFlags) => {
      await runScanCommand(target, flags, 'table');
    });
}

/**
 * The options that say what to read and how: every command that reads a target (`scan`, `sbom`) takes the same
 * ones, so `lading sbom X --offline` means what `lading scan X --sbom-only --offline` does (a test compares them).
 */
export function addTargetOptions(cmd: Command): Command {
  return cmd
    .option(
      '-o, --output <format[=file]>',
      `output format, repeatable (${OUTPUT_FORMAT_NAMES.join(', ')})`,
      collect,
      [],
    )
    .option('--platform <os/arch>', 'platform to pick from a multi-platform image (env LADING_PLATFORM)')
    .option('--insecure-registry <host>', 'allow plain HTTP to this registry, repeatable', collect, [])
    .option('--offline', 'never reach the network (env LADING_OFFLINE=1)')
    .option('--db-dir <dir>', 'vulnerability database folder (env LADING_DB_DIR)')
    .option('--cyclonedx-version <v>', 'CycloneDX spec version: 1.5, 1.6 or 1.7', '1.6')
    .option('--max-file-size <bytes>', 'largest file a cataloger reads (env LADING_MAX_FILE_SIZE)')
    .option(
      '--max-image-size <bytes>',
      'most bytes all layers may inflate to, a decompression-bomb cap (default 16 GiB; env LADING_MAX_IMAGE_SIZE)',
    )
    .option(
      '--verify-diff-ids',
      "also check every layer's uncompressed content against the config's diff-ids (reads every byte: slower)",
    )
    .option(
      '--no-checks',
      'skip the image checks (misconfigurations: root user, shells, setuid files, secrets in env…)',
    )
    .option('--no-cache', 'neither reuse nor keep catalog results (see --cache-dir)')
    .option(
      '--cache-dir <dir>',
      'where catalog results of digest-named images are kept (env LADING_CACHE_DIR; default ' +
        '$XDG_CACHE_HOME/lading/results; size cap env LADING_CACHE_MAX_SIZE, default 512MiB)',
    )
    .option('-q, --quiet', 'no progress or warnings on stderr');
}

export async function runScanCommand(target: string, flags: ScanFlags, fallbackFormat: string): Promise<Report> {
  const [
    { parseSeverity, parseSeverityList },
    { REPORT_FORMATS, DEFAULT_RENDER_OPTIONS },
    { renderJson },
    { loadReport },
    { scan, assess },
  ] = await Promise.all([
    import('@lading/engine/policy'),
    import('@lading/engine/report'),
    import('@lading/engine/report'),
    import('@lading/engine/report'),
    import('@lading/engine/scan'),
  ]);
  const specs = parseOutputSpecs(flags.output, Object.keys(REPORT_FORMATS), fallbackFormat);
  // Only --sbom-only (and `lading sbom`) skips matching: a CycloneDX file asked of `scan` carries its vulnerabilities.
  const sbomOnly = !!flags.sbomOnly;
  const severities = flags.severity ? parseSeverityList(flags.severity) : undefined;
  const failOn = flags.failOn ? parseSeverity(flags.failOn) : undefined;
  const renderOptions = renderOptionsFrom(flags, DEFAULT_RENDER_OPTIONS);
  const { maxFileSize, maxImageSize, platform } = imageOptionsFrom(flags, process.env);
  const maxFileBytes = maxFileSize ? parseByteLimit(maxFileSize, '--max-file-size') : undefined;
  const maxInflatedBytes = maxImageSize ? parseByteLimit(maxImageSize, '--max-image-size') : undefined;

  // Inputs that can be wrong are read before the (long) scan, so a typo fails in milliseconds with exit 2.
  // The YAML and JSON Schema machinery loads only when a policy or VEX file is given.
  const vexFiles = flags.vex ?? [];
  const { loadVex } = vexFiles.length ? await import('@lading/engine/policy') : { loadVex: undefined };
  const vex = loadVex ? (await Promise.all(vexFiles.map(loadVex))).flat() : [];
  const policy = flags.policy ? await (await import('@lading/engine/policy')).loadPolicy(flags.policy) : undefined;
  const baseline = flags.baseline ? await loadReport(flags.baseline) : undefined;
  const baselineSeverity = parseSeverity(flags.baselineSeverity ?? 'high');
  const gated = !!(failOn || policy || baseline);
  // The one clock reading of the run: the report's date, the data-age checks and the verdict all use it.
  const now = new Date();

  const matching = !sbomOnly || gated;
  // The vulnerability store's module (with the SQLite driver) loads only for a scan that matches.
  const vulndb = matching ? await import('@lading/engine/vulndb') : undefined;
  const dbDir = dbDirFrom(flags.dbDir, process.env);
  // The first Ctrl-C stops the scan cleanly (exit 130, files and sockets closed); a second one kills as usual.
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.once('SIGINT', onSigint);
  const onProgress = progressLine(flags.quiet);
  const cache = resultCacheFrom(flags, process.env);
  const scanned = await scan(target, {
    sbomOnly: !matching,
    dbDir,
    // so that a bare `lading db update` fetches what this scan needed, even when it found no data at all
    ...(vulndb ? { onNeededEcosystems: (names: string[]) => vulndb.recordNeededEcosystems(dbDir, names, now) } : {}),
    // online, the data the scan needs is fetched first when missing or older than a day (data-update.ts)
    ...(matching && !skipDbUpdateFrom(flags.skipDbUpdate, process.env)
      ? { prepareData: autoUpdater({ dbDir, env: process.env, now, quiet: !!flags.quiet }) }
      : {}),
    allowMissingData: allowMissingDataFrom(flags.allowMissingData, process.env),
    offline: offlineFrom(flags.offline, process.env),
    ignoreUnfixed: !!flags.ignoreUnfixed,
    ...(severities ? { severities } : {}),
    ...(platform ? { platform } : {}),
    insecureRegistries: flags.insecureRegistry,
    dockerConfigPath: dockerConfigPathFrom(process.env),
    inflateThreads: inflateThreadsFrom(process.env),
    ...sbomMaxBytesFrom(process.env),
    ...(onProgress ? { onProgress } : {}),
    signal: withDeadline(interrupt.signal),
    ...(cache ? { cache } : {}),
    verifyDiffIds: !!flags.verifyDiffIds,
    checks: flags.checks !== false,
    ...(flags.secrets === false ? { secrets: false } : {}),
    ...(maxFileBytes ? { limits: { maxFileBytes } } : {}),
    ...(maxInflatedBytes ? { maxInflatedBytes } : {}),
    now,
  }).finally(() => process.removeListener('SIGINT', onSigint));
  const report = assess(scanned, {
    vex,
    ...(policy ? { policy } : {}),
    ...(baseline ? { baseline } : {}),
    baselineSeverity,
    ...(failOn ? { failOn } : {}),
    now,
  });

  printWarnings(report.warnings, flags);
  await renderAll(report, specs, renderOptions);
  printVerdict(report, flags);
  if (report.gate && !report.gate.pass) {
    process.exitCode = 1;
  } else if (flags.baselineUpdate) {
    await writeOutput({ format: 'json', file: flags.baselineUpdate }, renderJson(report));
  }
  return report;
}

/** `defaults`: the engine's `DEFAULT_RENDER_OPTIONS`, passed in so that registering the command loads no report code. */
export function renderOptionsFrom(
  flags: Pick<ScanFlags, 'cyclonedxVersion' | 'showSuppressed' | 'summary'>,
  defaults: RenderOptions,
): RenderOptions {
  const version = flags.cyclonedxVersion;
  if (version !== '1.5' && version !== '1.6' && version !== '1.7') {
    throw new LadingError('USAGE', `--cyclonedx-version ${version}: choose 1.5, 1.6 or 1.7`);
  }
  const epoch = sourceDateEpochFrom(process.env);
  const options: RenderOptions = {
    ...defaults,
    color: process.stdout.isTTY === true && !process.env['NO_COLOR'],
    width: process.stdout.columns || defaults.width,
    showSuppressed: !!flags.showSuppressed,
    ...(flags.summary ? { summary: true } : {}),
    cyclonedxVersion: version,
  };
  if (epoch !== undefined) options.sourceDateEpoch = epoch.getTime() / 1000;
  return options;
}

export async function renderAll(report: Report, specs: OutputSpec[], options: RenderOptions): Promise<void> {
  const { REPORT_FORMATS } = await import('@lading/engine/report');
  for (const spec of specs) {
    const render = await REPORT_FORMATS[spec.format]!();
    // A file never gets terminal colours.
    await writeOutput(spec, render(report, spec.file ? { ...options, color: false } : options));
  }
}

/** A size cap: zero would silently have meant the default, so it is refused like any other non-size (exit 2). */
export function parseByteLimit(value: string, flag: string): number {
  const bytes = parseByteCount(value);
  if (bytes <= 0) throw new LadingError('USAGE', `${flag} must be more than 0 (got "${value}")`);
  return bytes;
}

export function parseByteCount(value: string): number {
  const m = /^(\d+)\s*([kmg]i?b?)?$/i.exec(value.trim());
  if (!m) throw new LadingError('USAGE', `not a size: "${value}" (e.g. 64MiB)`);
  const unit = (m[2] ?? '').toLowerCase()[0];
  const scale = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Number(m[1]) * scale;
}
