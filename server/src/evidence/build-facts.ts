import type { BuildFacts } from './types.js';

type Json = Record<string, unknown>;

function obj(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function time(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

/**
 * The build facts of a SLSA v1 provenance predicate, as `lading provenance` writes it for GitHub Actions, GitLab CI
 * and a local checkout (and as the SLSA GitHub generator does): the builder, the source repository, commit and ref
 * (from the resolved dependency carrying a `gitCommit`, whose URI is `git+<repo>@<ref>`), the workflow and the run.
 */
export function buildFactsOf(predicate: unknown): BuildFacts {
  const p = obj(predicate) ?? {};
  const definition = obj(p['buildDefinition']) ?? {};
  const run = obj(p['runDetails']) ?? {};
  const external = obj(definition['externalParameters']) ?? {};
  const internal = obj(definition['internalParameters']) ?? {};
  const metadata = obj(run['metadata']) ?? {};
  const workflow = obj(external['workflow']);
  const source = obj(external['source']);
  const pipeline = obj(external['pipeline']);
  const dependencies = Array.isArray(definition['resolvedDependencies']) ? definition['resolvedDependencies'] : [];
  const checkout = dependencies.map(obj).find((d) => {
    const digest = obj(d?.['digest']);
    return typeof digest?.['gitCommit'] === 'string' || typeof digest?.['sha1'] === 'string';
  });
  const fromUri = parseGitUri(str(checkout?.['uri']));
  const checkoutDigest = obj(checkout?.['digest']) ?? {};
  const invocationId = str(metadata['invocationId']);
  const gitlab = obj(internal['gitlab']);
  const githubRun = invocationId ? /\/actions\/runs\/(\d+)(?:\/|$)/.exec(invocationId)?.[1] : undefined;
  return {
    builderId: str(obj(run['builder'])?.['id']),
    buildType: str(definition['buildType']),
    sourceRepo: fromUri.repo ?? str(workflow?.['repository']) ?? str(source?.['repository']),
    sourceCommit: str(checkoutDigest['gitCommit']) ?? str(checkoutDigest['sha1']),
    sourceRef: fromUri.ref ?? str(workflow?.['ref']) ?? str(source?.['ref']),
    workflowPath: str(workflow?.['path']) ?? str(pipeline?.['path']),
    runId: githubRun ?? str(gitlab?.['job_id']) ?? str(gitlab?.['pipeline_id']),
    runUrl: invocationId && /^https:\/\//.test(invocationId) ? invocationId : null,
    startedAt: time(metadata['startedOn']),
    finishedAt: time(metadata['finishedOn']),
  };
}

/** `git+https://github.com/acme/api@refs/heads/main` → repo and ref (the `@` after the host part). */
function parseGitUri(uri: string | null): { repo: string | null; ref: string | null } {
  if (!uri) return { repo: null, ref: null };
  const plain = uri.replace(/^git\+/, '');
  const schemeEnd = plain.indexOf('://');
  const at = plain.indexOf('@', schemeEnd < 0 ? 0 : plain.indexOf('/', schemeEnd + 3));
  if (at < 0) return { repo: plain, ref: null };
  return { repo: plain.slice(0, at), ref: plain.slice(at + 1) || null };
}

/** Repositories compared loosely: scheme and case of the host aside, no `.git`, no trailing slash. */
export function normalizeRepository(url: string): string {
  return url
    .replace(/^git\+/, '')
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\.git$/, '')
    .replace(/\/+$/, '')
    .toLowerCase();
}

/** `*` matches any run of characters; everything else literally. */
export function globMatches(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
  return re.test(value);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
