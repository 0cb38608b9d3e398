import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LadingError } from '@lading/engine/errors';
import type { Command } from 'commander';
import { sourceDateEpochFrom } from '../environment.js';
import { collect, writeOutput } from '../output.js';

interface SummaryFlags {
  reports: string[];
  previous?: string;
  output?: string;
  periodEnd?: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function registerSummary(program: Command): void {
  program
    .command('summary')
    .description('weekly security summary (version 3) over Lading and Trivy JSON reports')
    .requiredOption(
      '--reports <dir|file...>',
      'report files, or folders whose *.json files are read; a missing or unreadable report is a placeholder',
      collect,
      [],
    )
    .option('--previous <file>', "last week's summary: gives the delta, the trend and placeholders' last counts")
    .option('-o, --output <file>', 'write the summary to this file (default: standard output)')
    .option('--period-end <date>', 'end of the week summarized, YYYY-MM-DD or ISO 8601 (default: today 00:00 UTC)')
    .action(async (flags: SummaryFlags) => {
      const { weeklySummary, renderWeeklySummary, readSummaryInput, loadWeeklySummary } = await import(
        '@lading/engine/summary'
      );
      // SOURCE_DATE_EPOCH fixes `generatedAt` for reproducible output; else the wall clock.
      const now = sourceDateEpochFrom(process.env) ?? new Date();
      const period = periodFrom(flags.periodEnd);
      const files = await reportFiles(flags.reports);
      const inputs = await Promise.all(files.map((file) => readSummaryInput(file)));
      const previous = flags.previous ? await loadWeeklySummary(flags.previous) : undefined;
      const summary = weeklySummary(inputs, { now, ...(period ? { period } : {}), ...(previous ? { previous } : {}) });
      await writeOutput(
        { format: 'json', ...(flags.output ? { file: flags.output } : {}) },
        renderWeeklySummary(summary),
      );
    });
}

/** `--period-end`: a date is its 00:00 UTC; the period is the 7 days before it. */
function periodFrom(value: string | undefined): { start: Date; end: Date } | undefined {
  if (value === undefined) return undefined;
  const text = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
  const end = /^\d{4}-\d{2}-\d{2}T/.test(text) ? new Date(text) : new Date(Number.NaN);
  if (Number.isNaN(end.getTime())) {
    throw new LadingError('USAGE', `--period-end ${value}: expected a date (YYYY-MM-DD) or an ISO 8601 time`);
  }
  return { start: new Date(end.getTime() - 7 * DAY_MS), end };
}

/**
 * The report files named: a folder stands for its `*.json` files (not recursive), in name order; anything else,
 * also a path that does not exist, is passed on as a file (the summary shows a missing one as a placeholder).
 */
async function reportFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info?.isDirectory()) {
      files.push(path);
      continue;
    }
    const names = (await readdir(path)).filter((name) => name.endsWith('.json')).sort();
    for (const name of names) files.push(join(path, name));
  }
  return [...new Set(files)];
}
