import { open, stat } from 'node:fs/promises';
import type { Report } from '@lading/engine/model';
import type { Command } from 'commander';
import { autoUpdater } from '../data-update.js';
import { deadlineOption } from '../deadline.js';
import {
  allowMissingDataFrom,
  dbDirFrom,
  dockerConfigPathFrom,
  inflateThreadsFrom,
  offlineFrom,
  sbomMaxBytesFrom,
  skipDbUpdateFrom,
} from '../environment.js';
import { collect, parseOutputSpecs, printGateLines, writeOutput } from '../output.js';

/**
 * The diff's output formats, as the engine's `DIFF_FORMATS` names them (a test holds the two equal): a constant
 * here, so that registering the command loads none of the diff's code.
 */
export const DIFF_FORMAT_NAMES = ['table', 'json', 'markdown'] as const;

interface DiffFlags {
  output: string[];
  dbDir?: string;
  offline?: boolean;
  sbomOnly?: boolean;
  platform?: string;
  insecureRegistry: string[];
  verifyDiffIds?: boolean;
  allowMissingData?: boolean;
  skipDbUpdate?: boolean;
  failOnWorse?: boolean;
}

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('compare two images or reports: packages and findings added, removed, fixed')
    .argument('<old>', 'a Lading JSON report or any scan target')
    .argument('<new>', 'a Lading JSON report or any scan target')
    .option('-o, --output <format[=file]>', `output format, repeatable (${DIFF_FORMAT_NAMES.join(', ')})`, collect, [])
    .option('--db-dir <dir>', 'vulnerability database folder (env LADING_DB_DIR)')
    .option('--offline', 'never reach the network')
    .option('--sbom-only', 'compare packages only (targets are not matched against vulnerability data)')
    .option(
      '--allow-missing-data',
      'match what there is data for; the comparison is then marked incomplete (env LADING_ALLOW_MISSING_DATA=1)',
    )
    .option('--skip-db-update', 'no download or refresh of vulnerability data first (env LADING_SKIP_DB_UPDATE=1)')
    .option('--platform <os/arch>', 'platform to pick from multi-platform images')
    .option('--insecure-registry <host>', 'allow plain HTTP to this registry, repeatable', collect, [])
    .option('--verify-diff-ids', "also check every layer's content against the config's diff-ids (slower)")
    .option('--fail-on-worse', 'exit 1 when the verdict is WORSE (the most severe level whose count changed went up)')
    .action(async (oldSpec: string, newSpec: string, flags: DiffFlags) => {
      const { diffReports, renderDiff, diffGate } = await loadImplementation();
      const specs = parseOutputSpecs(flags.output, DIFF_FORMAT_NAMES, 'table');
      // One clock reading for both sides: the reports' dates and their data-age checks agree.
      const now = new Date();
      const [before, after] = await Promise.all([reportFor(oldSpec, flags, now), reportFor(newSpec, flags, now)]);
      const diff = diffReports(before, after);
      for (const spec of specs) await writeOutput(spec, renderDiff(diff, spec.format));
      if (flags.failOnWorse) {
        // The outputs above are what they are without the flag; the gate only adds its reason and the exit status.
        const gate = diffGate(diff);
        printGateLines(gate.reasons);
        if (!gate.pass) process.exitCode = 1;
      }
    });
}

/** A report file is read as is; anything else is scanned now. */
async function reportFor(spec: string, flags: DiffFlags, now: Date): Promise<Report> {
  const { loadReport, looksLikeReport, recordNeededEcosystems, scan } = await loadImplementation();
  if (spec.endsWith('.json')) {
    const head = await fileHead(spec);
    if (looksLikeReport(head)) return loadReport(spec);
  }
  const dbDir = dbDirFrom(flags.dbDir, process.env);
  return scan(spec, {
    sbomOnly: !!flags.sbomOnly,
    dbDir,
    onNeededEcosystems: (names) => recordNeededEcosystems(dbDir, names, now),
    ...(!flags.sbomOnly && !skipDbUpdateFrom(flags.skipDbUpdate, process.env)
      ? { prepareData: autoUpdater({ dbDir, env: process.env, now }) }
      : {}),
    allowMissingData: allowMissingDataFrom(flags.allowMissingData, process.env),
    offline: offlineFrom(flags.offline, process.env),
    insecureRegistries: flags.insecureRegistry,
    dockerConfigPath: dockerConfigPathFrom(process.env),
    now,
    inflateThreads: inflateThreadsFrom(process.env),
    ...sbomMaxBytesFrom(process.env),
    verifyDiffIds: !!flags.verifyDiffIds,
    ...(flags.platform ? { platform: flags.platform } : {}),
    ...deadlineOption(),
  });
}

/**
 * The first 4 KiB of a regular file, enough to tell a report from an SBOM; '' for anything else (a pipe is never
 * opened: the scan that follows refuses it).
 */
async function fileHead(path: string): Promise<string> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) return '';
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(4096);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead).toString('utf8');
  } finally {
    await file.close();
  }
}

/** The implementation modules, loaded when a command runs so that CLI startup stays cheap. */
async function loadImplementation() {
  const [m0, m1, m2, m3] = await Promise.all([
    import('@lading/engine/diff'),
    import('@lading/engine/report'),
    import('@lading/engine/scan'),
    import('@lading/engine/vulndb'),
  ]);
  return { ...m0, ...m1, ...m2, ...m3 };
}
