// The GitHub Action's `main:` step. It runs the CLI's own commands in this process (no subprocess, nothing
// downloaded), then publishes what they wrote: outputs, SARIF upload, step summary, pull-request comment and the
// issue lifecycle — all of it BEFORE the step fails, so a failed gate never hides its evidence (trivy-action#330).
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { thrownValueText } from '@lading/engine/errors';
import type { LifecycleFinding } from '@lading/engine/github';
import type { Finding, Report, SeverityCounts } from '@lading/engine/model';
import type { Environment } from '../environment.js';
import { main as cli } from '../main.js';
import { restoreDbCache } from './cache.js';
import { type ActionInputs, actionInputsFrom, type GithubContext, githubContextFrom } from './environment.js';
import { categorizeSarif, githubApi, issueLifecycle, uploadSarif, upsertPullRequestComment } from './github.js';

/** The runner aborts a step summary over 1 MiB; the summary is cut to fit (the report file is complete). */
const SUMMARY_MAX_BYTES = 1024 * 1024 - 4096;

const SEVERITY_ORDER = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] as const;

/** Runs the step and returns its exit code (0 pass, 1 gate failed, 2 usage, 3 operational). */
export async function runAction(env: Environment, now: Date): Promise<number> {
  const github = githubContextFrom(env);
  const outputs = new Map<string, string>();
  let inputs: ActionInputs;
  try {
    inputs = actionInputsFrom(env);
  } catch (err) {
    return finish(github, outputs, 2, [thrownValueText(err)]);
  }
  const errors: string[] = [];

  if (inputs.dbCache && inputs.command !== 'sbom') {
    // a miss or an unreachable cache service is never a failure: the scan then downloads what it needs (#500, opr-paas#1083)
    const restored = await restoreDbCache(github, now).catch((err: unknown) => {
      notice('warning', `vulnerability database cache not restored: ${thrownValueText(err)}`);
      return undefined;
    });
    if (restored) process.stdout.write(`lading: vulnerability database restored from cache key ${restored}\n`);
  }

  const reportFile = reportPath(inputs, github);
  const argv = cliArguments(inputs, github, reportFile);
  process.stdout.write(`lading ${argv.map(quoteForLog).join(' ')}\n`);
  const { code: cliCode, errorLines } = await runCliCapturing(argv);
  for (const line of errorLines) errors.push(line);
  let code = cliCode;
  outputs.set('exit-code', String(code));

  const report = readReport(inputs, reportFile, outputs);
  if (report) publishCounts(report, outputs);
  if (inputs.command !== 'pipeline' && inputs.sarif && existsSync(inputs.sarif)) outputs.set('sarif', inputs.sarif);
  // the pipeline stages its own SARIF (one per platform; the first is published)
  const sarifFile = outputs.get('sarif');

  // Every publication is attempted even when an earlier one failed; each failure is named, and makes the step fail.
  const attempt = async (what: string, work: () => Promise<void>) => {
    try {
      await work();
    } catch (err) {
      errors.push(`${what}: ${thrownValueText(err)}`);
      if (code === 0) code = 3;
    }
  };
  const api = githubApi({ apiUrl: github.apiUrl, token: inputs.githubToken, userAgent: 'lading-action' });
  const runUrl =
    github.repository && github.runId
      ? `${github.serverUrl}/${github.repository}/actions/runs/${github.runId}`
      : undefined;
  const category = inputs.sarifCategory ?? defaultCategory(inputs, report);

  if (sarifFile && existsSync(sarifFile)) {
    await attempt('SARIF', async () => {
      const { text: sarif, dropped } = categorizeSarif(readFileSync(sarifFile, 'utf8'), category);
      for (const what of dropped)
        notice('warning', `SARIF: ${what} were left out of the upload (the report keeps them)`);
      // a pipeline's staged SARIF is signed and named in the provenance by its hash: it is uploaded, not rewritten
      if (inputs.command !== 'pipeline') writeFileSync(sarifFile, sarif);
      if (!inputs.uploadSarif) return;
      const { repository, sha, ref } = requireContext(github, ['repository', 'sha', 'ref'], 'upload-sarif');
      const id = await uploadSarif(api, repository, sha, ref, sarif);
      process.stdout.write(`lading: SARIF uploaded to code scanning (category ${category}${id ? `, id ${id}` : ''})\n`);
    });
  }

  const markdown: string[] = [];
  if (report) {
    const pull = pullRequestNumber(github);
    if (inputs.baseline && existsSync(inputs.baseline)) {
      await attempt('pull-request comparison', async () => {
        const compared = await compareWithBase(report, inputs, category);
        outputs.set('new-findings', String(compared.newFindings));
        outputs.set('direction', compared.direction);
        markdown.push(compared.markdown);
        if (inputs.prComment && pull !== undefined) {
          const { repository } = requireContext(github, ['repository'], 'pr-comment');
          await upsertPullRequestComment(api, repository, pull, `<!-- lading:pr=${category} -->`, compared.markdown);
        }
      });
    } else if (inputs.prComment && pull !== undefined) {
      errors.push(`pr-comment: no base report to compare with (the baseline input names ${inputs.baseline ?? 'none'})`);
      if (code === 0) code = 2;
    }
    if (inputs.issueLifecycle) {
      await attempt('issue lifecycle', async () => {
        const { repository } = requireContext(github, ['repository'], 'issue-lifecycle');
        const result = await issueLifecycle(api, {
          repository,
          image: imageName(report),
          findings: lifecycleFindings(report),
          now,
          ...(runUrl ? { runUrl } : {}),
          incomplete: report.coverage?.complete === false,
        });
        if (result.issue !== undefined) outputs.set('issue', String(result.issue));
        process.stdout.write(`lading: issue ${result.action}${result.issue ? ` (#${result.issue})` : ''}\n`);
      });
    }
    if (inputs.summary && github.summaryFile) {
      await attempt('step summary', async () => {
        const { REPORT_FORMATS, DEFAULT_RENDER_OPTIONS } = await import('@lading/engine/report');
        const render = await REPORT_FORMATS['markdown']!();
        const text = [...markdown, render(report, { ...DEFAULT_RENDER_OPTIONS, color: false })].join('\n\n');
        appendFileSync(github.summaryFile!, limitBytes(text, SUMMARY_MAX_BYTES));
      });
    }
  }
  outputs.set('gate', code === 0 ? 'pass' : code === 1 ? 'fail' : 'error');
  outputs.set('exit-code', String(code));
  return finish(github, outputs, code, errors);
}

/** Outputs last (after every publication), then one `::error::` line per failure: the runner's annotations. */
function finish(github: GithubContext, outputs: Map<string, string>, code: number, errors: readonly string[]): number {
  if (!outputs.has('gate')) outputs.set('gate', code === 0 ? 'pass' : code === 1 ? 'fail' : 'error');
  if (!outputs.has('exit-code')) outputs.set('exit-code', String(code));
  if (github.outputFile) {
    let text = '';
    for (const [name, value] of outputs) {
      // the heredoc form with a delimiter no value can contain, as @actions/core writes it
      const delimiter = `ghadelimiter_${randomUUID()}`;
      text += `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
    }
    appendFileSync(github.outputFile, text);
  }
  for (const error of errors) notice('error', error);
  if (code === 1) notice('error', 'the gate failed: see the findings above and in the job summary');
  return code;
}

function notice(kind: 'error' | 'warning', message: string): void {
  // workflow commands must be one line; % and newlines are escaped as the runner expects
  const escaped = message.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  process.stdout.write(`::${kind}::${escaped}\n`);
}

function reportPath(inputs: ActionInputs, github: GithubContext): string {
  const json = inputs.outputs.find((o) => o.startsWith('json='));
  if (json) return json.slice('json='.length);
  if (inputs.command === 'pipeline') return join(pipelineOut(github), 'report.json');
  return join(github.workspace, 'lading.json');
}

function pipelineOut(github: GithubContext): string {
  return join(github.workspace, '.lading', 'pipeline');
}

/** The CLI command the inputs describe; flags only for inputs that were given (no "unset looks like default"). */
export function cliArguments(inputs: ActionInputs, github: GithubContext, reportFile: string): string[] {
  const args: string[] = [inputs.command === 'sbom' ? 'scan' : inputs.command, inputs.image];
  const flag = (name: string, value: string | undefined) => {
    if (value !== undefined) args.push(name, value);
  };
  if (github.debug) args.unshift('--debug');
  flag('--db-dir', github.dbDir);
  if (inputs.offline) args.push('--offline');
  flag('--platform', inputs.platform);
  if (inputs.command === 'pipeline') {
    flag('--image', inputs.repository);
    for (const tag of inputs.tags) flag('--tag', tag);
    flag('--fail-on', inputs.failOn);
    flag('--policy', inputs.policy);
    flag('--baseline', inputs.baseline);
    flag('--key', inputs.key);
    if (inputs.push) args.push('--push');
    flag('--store', inputs.store);
    flag('--notify', inputs.serverUrl);
    flag('--out', pipelineOut(github));
    return args;
  }
  if (inputs.command === 'sbom') args.push('--sbom-only');
  args.push('-o', 'table');
  for (const spec of inputs.outputs) args.push('-o', spec);
  if (!inputs.outputs.some((o) => o.startsWith('json='))) args.push('-o', `json=${reportFile}`);
  if (inputs.sarif) args.push('-o', `sarif=${inputs.sarif}`);
  if (inputs.command === 'sbom') return args;
  flag('--fail-on', inputs.failOn);
  flag('--severity', inputs.severity);
  if (inputs.ignoreUnfixed) args.push('--ignore-unfixed');
  flag('--policy', inputs.policy);
  for (const vex of inputs.vex) flag('--vex', vex);
  if (inputs.baseline) {
    // the base branch's report: a new CRITICAL, or more findings at the pull-request threshold, fails the gate
    flag('--baseline', inputs.baseline);
    flag('--baseline-severity', inputs.prThreshold);
  }
  return args;
}

function quoteForLog(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Runs the CLI in this process, keeping its one-line `lading: …` errors (not warnings) for annotations. */
async function runCliCapturing(argv: string[]): Promise<{ code: number; errorLines: string[] }> {
  const errorLines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    for (const line of text.split('\n')) {
      if (line.startsWith('lading: ') && !/^lading: (warning|policy warning|note):/.test(line)) {
        errorLines.push(line.slice('lading: '.length));
      }
    }
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  try {
    const code = await cli(argv);
    return { code, errorLines: code === 0 ? [] : errorLines.slice(-5) };
  } finally {
    process.stderr.write = write;
    process.exitCode = undefined;
  }
}

function readReport(inputs: ActionInputs, reportFile: string, outputs: Map<string, string>): Report | undefined {
  if (inputs.command === 'pipeline') {
    const resultFile = join(dirname(reportFile), 'pipeline.json');
    if (existsSync(resultFile)) {
      try {
        const result = JSON.parse(readFileSync(resultFile, 'utf8')) as {
          digest?: string;
          artifacts?: { type: string; path: string }[];
          store?: { location: string };
          registry?: { attestations?: { digest: string }[] };
        };
        const out = dirname(reportFile);
        if (result.digest) outputs.set('digest', result.digest);
        const attestations = result.registry?.attestations ?? [];
        if (attestations.length > 0) outputs.set('attestation-digests', attestations.map((a) => a.digest).join(','));
        if (result.digest && result.store?.location) {
          // the immutable by-digest layout's index (docs/ci.md, Object storage)
          const [algorithm, hex] = result.digest.split(':');
          outputs.set(
            'store-index-url',
            `${result.store.location.replace(/\/+$/, '')}/by-digest/${algorithm}/${hex}/index.json`,
          );
        }
        for (const artifact of result.artifacts ?? []) {
          const name = artifact.type === 'report' ? 'report' : artifact.type;
          if (['report', 'sarif', 'sbom-cyclonedx', 'sbom-spdx'].includes(name) && !outputs.has(name)) {
            outputs.set(name, join(out, artifact.path));
          }
        }
        const report = outputs.get('report');
        if (report && existsSync(report)) return JSON.parse(readFileSync(report, 'utf8')) as Report;
      } catch {
        return undefined;
      }
    }
    return undefined;
  }
  if (!existsSync(reportFile)) return undefined;
  outputs.set('report', reportFile);
  for (const spec of inputs.outputs) {
    const [format, file] = spec.split('=', 2);
    if (format === 'cyclonedx-json' && file) outputs.set('sbom-cyclonedx', file);
    if (format === 'spdx-json' && file) outputs.set('sbom-spdx', file);
  }
  try {
    return JSON.parse(readFileSync(reportFile, 'utf8')) as Report;
  } catch {
    return undefined;
  }
}

function dirname(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '.' : path.slice(0, slash);
}

function publishCounts(report: Report, outputs: Map<string, string>): void {
  if (report.target.digest) outputs.set('digest', report.target.digest);
  const counts: SeverityCounts = report.summary.bySeverity;
  let total = 0;
  for (const key of ['critical', 'high', 'medium', 'low', 'unknown'] as const) {
    outputs.set(key, String(counts[key]));
    total += counts[key];
  }
  outputs.set('total', String(total));
}

function defaultCategory(inputs: ActionInputs, report: Report | undefined): string {
  const platform = inputs.platform ?? report?.target.platform;
  return `lading/${inputs.image}${platform ? `/${platform}` : ''}`;
}

function imageName(report: Report): string {
  // the repository, not the tag or digest: one issue follows the image across its builds
  const ref = report.target.ref.replace(/^(registry|oci|oci-archive|docker-archive|dir):/, '');
  return ref.replace(/@sha256:[0-9a-f]+$/, '').replace(/:(?![^/]*\/)[^:/]+$/, '');
}

function lifecycleFindings(report: Report): LifecycleFinding[] {
  return report.findings
    .filter((f) => !f.suppressed && ['CRITICAL', 'HIGH', 'MEDIUM'].includes(f.severity))
    .map((f) => ({
      id: f.id,
      severity: f.severity,
      package: f.package.name,
      version: f.package.version,
      ...(f.fixedVersions[0] ? { fixedVersion: f.fixedVersions.join(', ') } : {}),
    }));
}

/**
 * The pull-request comparison: both reports cut to findings at or above the threshold (MEDIUM by default), so a
 * LOW churn never decides; "merge only when security improves" reads the `direction` output.
 */
async function compareWithBase(
  report: Report,
  inputs: ActionInputs,
  category: string,
): Promise<{ markdown: string; newFindings: number; direction: string }> {
  const [{ diffReports, renderDiff }, { loadReport }, { parseSeverity }] = await Promise.all([
    import('@lading/engine/diff'),
    import('@lading/engine/report'),
    import('@lading/engine/policy'),
  ]);
  const threshold = parseSeverity(inputs.prThreshold);
  const rank = (s: string) => SEVERITY_ORDER.indexOf(s as (typeof SEVERITY_ORDER)[number]);
  const atLeast = (r: Report): Report => ({
    ...r,
    findings: r.findings.filter((f: Finding) => rank(f.severity) <= rank(threshold)),
  });
  const base = await loadReport(inputs.baseline!);
  const diff = diffReports(atLeast(base), atLeast(report));
  const heading = `### Lading: ${category} compared with the base branch (${threshold} and above): ${diff.direction.toUpperCase()}`;
  return {
    markdown: `${heading}\n\n${renderDiff(diff, 'markdown')}`,
    newFindings: diff.findings.new.length,
    direction: diff.direction,
  };
}

function pullRequestNumber(github: GithubContext): number | undefined {
  if (!github.eventPath || !github.eventName?.startsWith('pull_request')) return undefined;
  try {
    const event = JSON.parse(readFileSync(github.eventPath, 'utf8')) as { pull_request?: { number?: number } };
    return event.pull_request?.number;
  } catch {
    return undefined;
  }
}

function requireContext<K extends 'repository' | 'sha' | 'ref'>(
  github: GithubContext,
  keys: readonly K[],
  input: string,
): Record<K, string> {
  const values = {} as Record<K, string>;
  for (const key of keys) {
    const value = github[key];
    if (!value) throw new Error(`${input} needs GITHUB_${key.toUpperCase()}, which the runner did not set`);
    values[key] = value;
  }
  return values;
}

function limitBytes(text: string, max: number): string {
  const bytes = Buffer.from(text);
  if (bytes.length <= max) return `${text}\n`;
  const note = '\n\n… the summary was cut at the runner’s 1 MiB limit; the full report is the `report` output.\n';
  const cut = bytes.subarray(0, max - Buffer.byteLength(note)).toString('utf8');
  return `${cut.slice(0, cut.lastIndexOf('\n'))}${note}`;
}
