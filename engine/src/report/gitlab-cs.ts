import { createHash } from 'node:crypto';
import type { Finding, Severity } from '../model/finding.js';
import type { Report } from '../model/report.js';
import { fixText, visibleFindings } from './finding-order.js';
import type { RenderOptions } from './render-options.js';

/**
 * The version of GitLab's security-report-schemas this document follows (`container-scanning-report-format.json`,
 * the v15 line: no per-vulnerability `scanner`, `message`, `cve` or `confidence`, which v15 removed).
 */
export const GITLAB_CS_SCHEMA_VERSION = '15.0.7';

const SEVERITY: Record<Severity, string> = {
  CRITICAL: 'Critical',
  HIGH: 'High',
  MEDIUM: 'Medium',
  LOW: 'Low',
  UNKNOWN: 'Unknown',
};

/** GitLab's caps (schema maxLength): longer text is cut rather than making GitLab reject the whole report. */
const MAX_NAME = 255;
const MAX_DESCRIPTION = 1_048_576;
const MAX_SOLUTION = 7000;

/**
 * `-o gitlab-cs`: GitLab's container-scanning report (`artifacts: reports: container_scanning:`), one vulnerability
 * per (advisory, package). Its id is a digest of what identifies the finding (image repository, package, advisory),
 * so the same finding keeps its id across pipelines and GitLab tracks it instead of reopening it. Suppressed
 * findings are left out (GitLab would show them as open).
 */
export function renderGitlabContainerScanning(report: Report, options: RenderOptions): string {
  const findings = visibleFindings(report.findings, false).filter((f) => !f.suppressed);
  const image = imageOf(report);
  const os = report.os ? `${report.os.family}:${report.os.version}` : 'unknown';
  const time = gitlabTime(
    options.sourceDateEpoch !== undefined ? new Date(options.sourceDateEpoch * 1000).toISOString() : report.createdAt,
  );
  const scanner = {
    id: 'lading',
    name: 'Lading',
    vendor: { name: 'Lading' },
    version: report.tool.version,
  };
  const document = {
    version: GITLAB_CS_SCHEMA_VERSION,
    scan: {
      analyzer: scanner,
      scanner,
      type: 'container_scanning',
      start_time: time,
      end_time: time,
      status: 'success',
    },
    vulnerabilities: findings.map((f) => vulnerability(f, image, os, report)),
    remediations: [],
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

function vulnerability(f: Finding, image: string, os: string, report: Report): object {
  const fix = fixText(f);
  const name = cut(f.title ? `${f.id}: ${f.title}` : `${f.id} in ${f.package.name}`, MAX_NAME);
  const links = [...new Set([f.advisory.url, ...(f.references ?? [])].filter((u): u is string => isUrl(u)))].map(
    (url) => ({ url }),
  );
  return {
    id: stableId(repositoryOf(report), f),
    name,
    description: cut(
      f.description ?? f.title ?? `${f.id} affects ${f.package.name} ${f.package.version}.`,
      MAX_DESCRIPTION,
    ),
    severity: SEVERITY[f.severity],
    solution: cut(
      fix ? `Upgrade ${f.package.name} from ${f.package.version} to ${fix}` : 'No fixed version is known yet.',
      MAX_SOLUTION,
    ),
    identifiers: identifiers(f),
    ...(links.length ? { links } : {}),
    location: {
      dependency: { package: { name: f.package.name }, version: f.package.version },
      operating_system: os,
      image,
    },
  };
}

function identifiers(f: Finding): object[] {
  const ids = [f.id, ...f.aliases.filter((a) => a !== f.id)];
  return ids.map((id) => {
    const type = /^CVE-\d+-\d+$/.test(id) ? 'cve' : /^GHSA-/.test(id) ? 'ghsa' : 'osv';
    const url =
      type === 'cve'
        ? `https://www.cve.org/CVERecord?id=${id}`
        : `https://osv.dev/vulnerability/${encodeURIComponent(id)}`;
    return { type, name: id, value: id, url };
  });
}

/** The image as pulled: repository@digest where the digest is known, else the reference as given. */
function imageOf(report: Report): string {
  const ref = report.target.ref;
  if (!report.target.digest) return ref;
  return `${repositoryOf(report)}@${report.target.digest}`;
}

function repositoryOf(report: Report): string {
  return report.target.ref.replace(/@sha256:[0-9a-f]+$/, '').replace(/:(?![^/]*\/)[^:/]+$/, '');
}

function stableId(repository: string, f: Finding): string {
  const hex = createHash('sha256')
    .update(`${repository}\u0000${f.package.type}\u0000${f.package.name}\u0000${f.id}`)
    .digest('hex');
  // UUID-shaped, as GitLab's own analyzers write ids
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** GitLab's pattern for scan times: `YYYY-MM-DDTHH:MM:SS`, no fraction or zone (UTC). */
function gitlabTime(iso: string): string {
  return iso.slice(0, 19);
}

function isUrl(value: string | undefined): boolean {
  return !!value && /^https?:\/\/\S+$/.test(value);
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
