import { LadingError } from '@lading/engine/errors';
import type { Report } from '@lading/engine/model';
import type { StreamBuild, StreamTimeBasis } from '@lading/engine/trace';
import type { Command } from 'commander';
import { dbDirFrom, sourceDateEpochFrom } from '../environment.js';
import { collect, parseOutputSpecs, writeOutput } from '../output.js';

const FORMATS = ['json', 'markdown'];

interface CommonFlags {
  output: string[];
}

interface StudyFlags extends CommonFlags {
  from: string;
  to: string;
  observedUntil?: string;
  episodes?: boolean;
  charts?: string;
}

interface ImageFlags extends CommonFlags {
  time: string;
  dbDir?: string;
}

export function registerTrace(program: Command): void {
  const trace = program
    .command('trace')
    .description('fix tracing: distribution fix latency, image remediation latency, exposure episodes, base-OS mix');

  trace
    .command('study')
    .description('run the fix-latency study over a dataset folder (the format of examples/study)')
    .argument(
      '<dir>',
      'folder with images.jsonl.gz, debian-advisories.jsonl.gz, ubuntu-uct-fixes.jsonl.gz, cve-metadata-uct.jsonl.gz',
    )
    .option('--from <date>', 'study CVEs published from this day (YYYY-MM-DD)', '2016-09-01')
    .option('--to <date>', 'and before this day', '2018-02-01')
    .option('--observed-until <date>', 'fixes after this day are censored (default: --to)')
    .option('--episodes', 'include every exposure episode in the JSON')
    .option('--charts <dir>', 'also write the study’s SVG charts into this folder')
    .option('-o, --output <format[=file]>', `output: ${FORMATS.join(', ')} (repeatable)`, collect, [])
    .action(async (dir: string, flags: StudyFlags) => {
      const { readStudyData, runStudy, studyMarkdown, studyCharts } = await import('@lading/engine/trace');
      const from = dayFlag('--from', flags.from);
      const to = dayFlag('--to', flags.to);
      const observedUntil = flags.observedUntil ? dayFlag('--observed-until', flags.observedUntil) : to;
      if (to <= from) throw new LadingError('USAGE', '--to must be after --from');
      const specs = parseOutputSpecs(flags.output, FORMATS, 'markdown');
      const data = await readStudyData(dir);
      const result = runStudy(data, { from, to, observedUntil, ...(flags.episodes ? { episodes: true } : {}) });
      for (const spec of specs) {
        await writeOutput(
          spec,
          spec.format === 'json' ? `${JSON.stringify(result, null, 2)}\n` : studyMarkdown(result),
        );
      }
      if (flags.charts) {
        const { writeFileAtomically } = await import('@lading/engine/files');
        const { mkdir } = await import('node:fs/promises');
        const { join } = await import('node:path');
        await mkdir(flags.charts, { recursive: true });
        for (const chart of studyCharts(result)) await writeFileAtomically(join(flags.charts, chart.name), chart.svg);
      }
    });

  trace
    .command('image')
    .description('exposure episodes and remediation latency over the builds of one image stream')
    .argument(
      '<file...>',
      'Lading JSON reports (or CycloneDX/SPDX SBOMs, matched here with one data snapshot), one per build',
    )
    .option('--time <basis>', 'order builds by: scanned (report time, SBOM creation time) or image-created', 'scanned')
    .option('--db-dir <dir>', 'vulnerability database for SBOM inputs (default: $LADING_DB_DIR or ~/.cache/lading)')
    .option('-o, --output <format[=file]>', `output: ${FORMATS.join(', ')} (repeatable)`, collect, [])
    .action(async (files: string[], flags: ImageFlags) => {
      const basis = timeBasisFlag(flags.time);
      const specs = parseOutputSpecs(flags.output, FORMATS, 'markdown');
      const { streamLatency, streamMarkdown } = await import('@lading/engine/trace');
      const builds = await readBuilds(files, flags.dbDir);
      const result = streamLatency(builds, basis);
      for (const spec of specs) {
        await writeOutput(
          spec,
          spec.format === 'json' ? `${JSON.stringify(result, null, 2)}\n` : streamMarkdown(result),
        );
      }
    });

  trace
    .command('base')
    .description('the base-OS mix of a set of images, from their reports')
    .argument('<file...>', 'Lading JSON reports (or SBOMs), one per image')
    .option('--db-dir <dir>', 'vulnerability database for SBOM inputs')
    .option('-o, --output <format[=file]>', `output: ${FORMATS.join(', ')} (repeatable)`, collect, [])
    .action(async (files: string[], flags: ImageFlags) => {
      const specs = parseOutputSpecs(flags.output, FORMATS, 'markdown');
      const { baseMix, baseMixMarkdown } = await import('@lading/engine/trace');
      const result = baseMix(await readBuilds(files, flags.dbDir));
      for (const spec of specs) {
        await writeOutput(
          spec,
          spec.format === 'json' ? `${JSON.stringify(result, null, 2)}\n` : baseMixMarkdown(result),
        );
      }
    });
}

function dayFlag(flag: string, value: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : Number.NaN;
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== value) {
    throw new LadingError('USAGE', `${flag} ${value}: expected a day, YYYY-MM-DD`);
  }
  return ms;
}

function timeBasisFlag(value: string): StreamTimeBasis {
  if (value === 'scanned' || value === 'image-created') return value;
  throw new LadingError('USAGE', `--time ${value}: expected scanned or image-created`);
}

/**
 * Each file as a build: a Lading report as it is; an SBOM matched now against the local database (offline), so
 * every build of the stream is judged with one data snapshot, and dated by the SBOM's own creation time.
 */
async function readBuilds(files: readonly string[], dbDirFlag: string | undefined): Promise<StreamBuild[]> {
  const { readJsonDocument, loadReport, looksLikeReport } = await import('@lading/engine/report');
  const builds: StreamBuild[] = [];
  for (const file of files) {
    const value = await readJsonDocument(file, 'report or SBOM');
    if (looksLikeReport(JSON.stringify(value).slice(0, 4096))) {
      builds.push({ file, report: await loadReport(file) });
      continue;
    }
    const created = sbomCreatedAt(value);
    if (!created) {
      throw new LadingError(
        'BAD_INPUT',
        `${file}: neither a Lading report nor an SBOM with a creation time (CycloneDX metadata.timestamp, SPDX creationInfo.created)`,
      );
    }
    const { scan } = await import('@lading/engine/scan');
    const now = sourceDateEpochFrom(process.env) ?? new Date();
    const scanned = await scan(`sbom:${file}`, { dbDir: dbDirFrom(dbDirFlag, process.env), now, offline: true });
    const report: Report = { ...scanned, createdAt: created };
    builds.push({ file, report });
  }
  return builds;
}

function sbomCreatedAt(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const doc = value as { metadata?: { timestamp?: unknown }; creationInfo?: { created?: unknown } };
  const text = doc.metadata?.timestamp ?? doc.creationInfo?.created;
  return typeof text === 'string' && !Number.isNaN(Date.parse(text)) ? text : undefined;
}
