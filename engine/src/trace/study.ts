/**
 * The fix-latency study as one function over already-read data: distribution fix latency per release and priority,
 * image remediation latency per official-image series, which images lag their base image, and the base-OS mix.
 * `readStudyData` reads the dataset's files (examples/study holds the public one); `runStudy` is pure.
 */
import { join } from 'node:path';
import { type DistroLatency, distroFixLatency } from './distro.js';
import {
  analyseSeries,
  type BaseLag,
  baseLag,
  baseSeriesFor,
  type EpisodeDetail,
  type SeriesLatency,
} from './images.js';
import { readJsonLines } from './read.js';
import {
  parseCveMetadata,
  parseDebianAdvisory,
  parseStudyImage,
  parseUbuntuFix,
  type StudyCve,
  type StudyFix,
  type StudyImage,
} from './study-data.js';

export interface StudyData {
  images: StudyImage[];
  fixes: StudyFix[];
  cves: Map<string, StudyCve>;
  /** The files read, in order, for the result's `sources`. */
  files: string[];
}

export const STUDY_FILES = {
  images: 'images.jsonl.gz',
  debian: 'debian-advisories.jsonl.gz',
  ubuntu: 'ubuntu-uct-fixes.jsonl.gz',
  cves: 'cve-metadata-uct.jsonl.gz',
} as const;

/** Reads the four dataset files from `dir` (each may also be given uncompressed under the same name). */
export async function readStudyData(dir: string): Promise<StudyData> {
  const data: StudyData = { images: [], fixes: [], cves: new Map(), files: [] };
  const file = (name: string) => join(dir, name);
  await readJsonLines(file(STUDY_FILES.images), (v, where) => data.images.push(parseStudyImage(v, where)));
  await readJsonLines(file(STUDY_FILES.debian), (v, where) => {
    const fix = parseDebianAdvisory(v, where);
    if (fix) data.fixes.push(fix);
  });
  await readJsonLines(file(STUDY_FILES.ubuntu), (v, where) => {
    const fix = parseUbuntuFix(v, where);
    if (fix) data.fixes.push(fix);
  });
  await readJsonLines(file(STUDY_FILES.cves), (v, where) => {
    const cve = parseCveMetadata(v, where);
    data.cves.set(cve.cve, cve);
  });
  data.files = Object.values(STUDY_FILES);
  return data;
}

export interface BaseOsShare {
  os: string;
  /** Series whose newest build runs it. */
  series: number;
  /** Builds (distinct package lists) that ran it. */
  builds: number;
}

export interface StudyResult {
  kind: 'lading-trace-study';
  version: 1;
  window: { from: string; to: string; observedUntil: string };
  method: string[];
  distro: DistroLatency;
  images: SeriesLatency[];
  baseLag: BaseLag[];
  baseOs: BaseOsShare[];
  /** Series that changed OS release during the window, with the releases in order. */
  releaseMoves: { series: string; releases: string[] }[];
  episodes?: EpisodeDetail[];
  sources: string[];
}

export interface StudyOptions {
  /** CVEs published in [from, to) for the distribution latency (epoch ms). */
  from: number;
  to: number;
  /** End of observation: later fixes are censored here. */
  observedUntil: number;
  /** Include every episode in the result (large). */
  episodes?: boolean;
}

export const STUDY_METHOD = [
  'Distribution fix latency = fix availability − CVE publication, per (CVE, release, source package); the fix time is the DSA/DLA announcement day (Debian) or the first ubuntu-cve-tracker commit marking the release fixed (Ubuntu).',
  'CVEs whose fix had not shipped by the end of observation are right-censored there; medians and p90 come from the Kaplan–Meier estimate. "Events-only median" drops censored values, for comparison.',
  'Image remediation latency = first build without the vulnerable source version − max(fix availability, episode start), per distribution fix (release, source package, fixed version), over fixes published while the series was observed; an episode open at the series’ last build is censored there.',
  'Build time = latest amd64 layer push on Docker Hub where recorded, else the repo-info commit time (an upper bound).',
  'Severity = Ubuntu’s priority of the CVE (for Debian fixes too; a fix’s severity is its worst CVE).',
  'Base lag = derived image’s close time − the base image’s (debian:<codename>) close time, per fix closed in both.',
];

export function runStudy(data: StudyData, options: StudyOptions): StudyResult {
  const distro = distroFixLatency(data.fixes, data.cves, {
    ...options,
    releases: [...new Set(data.images.map((i) => i.os.codename))].sort(),
  });
  const fixesByPackage = new Map<string, StudyFix[]>();
  for (const fix of data.fixes) {
    const key = `${fix.distro}\u0000${fix.release}\u0000${fix.package}`;
    const list = fixesByPackage.get(key);
    if (list) list.push(fix);
    else fixesByPackage.set(key, [fix]);
  }
  const bySeries = new Map<string, StudyImage[]>();
  for (const image of data.images) {
    const name = `${image.image}:${image.tag}`;
    const list = bySeries.get(name);
    if (list) list.push(image);
    else bySeries.set(name, [image]);
  }
  const names = [...bySeries.keys()].sort();
  const analyses = new Map(
    names.map((name) => [name, analyseSeries(name, bySeries.get(name) ?? [], fixesByPackage, data.cves)]),
  );

  const lags: BaseLag[] = [];
  for (const name of names) {
    const builds = bySeries.get(name) ?? [];
    const bases = [...new Set(builds.map(baseSeriesFor).filter((b): b is string => b !== undefined))];
    const analysis = analyses.get(name);
    if (bases.length === 0 || !analysis) continue;
    const baseCloseOf = (fixKey: string) => {
      const release = fixKey.split('\u0000')[0] ?? '';
      const baseName = bases.find((b) => b.endsWith(`:${release}`)) ?? `debian:${release}`;
      return analyses.get(baseName)?.firstClose.get(fixKey);
    };
    lags.push(baseLag(name, bases, analysis.firstClose, baseCloseOf));
  }
  lags.sort((a, b) => (b.medianDays ?? Number.NEGATIVE_INFINITY) - (a.medianDays ?? Number.NEGATIVE_INFINITY));

  const osLabel = (i: StudyImage) =>
    `${i.os.family === 'ubuntu' ? 'Ubuntu' : 'Debian'} ${i.os.version} (${i.os.codename})`;
  const shares = new Map<string, BaseOsShare>();
  const share = (os: string) => {
    let s = shares.get(os);
    if (!s) {
      s = { os, series: 0, builds: 0 };
      shares.set(os, s);
    }
    return s;
  };
  for (const image of data.images) share(osLabel(image)).builds += 1;
  const releaseMoves: StudyResult['releaseMoves'] = [];
  for (const name of names) {
    const latency = analyses.get(name)?.latency;
    if (!latency) continue;
    const newest = latency.releases[latency.releases.length - 1];
    if (newest) share(newest).series += 1;
    if (latency.releases.length > 1) releaseMoves.push({ series: name, releases: latency.releases });
  }

  const result: StudyResult = {
    kind: 'lading-trace-study',
    version: 1,
    window: {
      from: new Date(options.from).toISOString(),
      to: new Date(options.to).toISOString(),
      observedUntil: new Date(options.observedUntil).toISOString(),
    },
    method: STUDY_METHOD,
    distro,
    images: names.map((n) => analyses.get(n)?.latency).filter((l): l is SeriesLatency => l !== undefined),
    baseLag: lags,
    baseOs: [...shares.values()].sort((a, b) => b.builds - a.builds || a.os.localeCompare(b.os)),
    releaseMoves,
    sources: data.files,
  };
  if (options.episodes) result.episodes = names.flatMap((n) => analyses.get(n)?.episodes ?? []);
  return result;
}
