// The few GitHub REST calls the Action makes, over fetch with the job's token: SARIF upload, the pull-request
// comment, and the issue-per-image lifecycle. The base URL is GITHUB_API_URL (GHES, and the tests' local replay).
import { gzipSync } from 'node:zlib';
import { LadingError, thrownValueText } from '@lading/engine/errors';

export interface GithubApi {
  request<T>(method: string, path: string, body?: unknown): Promise<T>;
}

export function githubApi(apiUrl: string, token: string | undefined): GithubApi {
  return {
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      const url = `${apiUrl}${path}`;
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers: {
            accept: 'application/vnd.github+json',
            'x-github-api-version': '2022-11-28',
            'user-agent': 'lading-action',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(60_000),
        });
      } catch (err) {
        throw new LadingError('NETWORK', `GitHub API ${method} ${path}: ${thrownValueText(err)}`, { cause: err });
      }
      const text = await response.text();
      if (!response.ok) {
        // GitHub's error documents carry a message; the permission hint is what users of other actions lacked
        let message = text.slice(0, 300);
        try {
          message = (JSON.parse(text) as { message?: string }).message ?? message;
        } catch {
          // not JSON: the start of the body is the best description there is
        }
        const hint =
          response.status === 403 || response.status === 404
            ? ` (does the job grant the permission? ${permissionFor(path)})`
            : '';
        throw new LadingError(
          'NETWORK',
          `GitHub API ${method} ${path}: HTTP ${response.status}: ${message.replace(/\s+/g, ' ')}${hint}`,
        );
      }
      return (text ? JSON.parse(text) : undefined) as T;
    },
  };
}

function permissionFor(path: string): string {
  if (path.includes('/code-scanning/')) return 'permissions: security-events: write';
  if (path.includes('/comments') && path.includes('/issues/')) return 'permissions: pull-requests: write';
  return 'permissions: issues: write';
}

/** GitHub's limit on an uploaded SARIF file, gzipped. */
const SARIF_MAX_GZIPPED = 10 * 1024 * 1024;

/** GitHub code scanning's limits on one upload: runs per file, results per run. */
export const SARIF_MAX_RUNS = 20;
export const SARIF_MAX_RESULTS = 25_000;

/**
 * Sets each run's category (`automationDetails.id`, as codeql-action does: one image/platform per category, so
 * matrix jobs do not close each other's alerts) and keeps within GitHub's limits: a run's results beyond 25,000
 * are dropped from the end (Lading writes them most severe first), runs beyond 20 are dropped. Returns the
 * document and what was dropped, for a warning.
 */
export function categorizeSarif(sarifText: string, category: string): { text: string; dropped: string[] } {
  const sarif = JSON.parse(sarifText) as { runs?: { automationDetails?: { id: string }; results?: unknown[] }[] };
  const dropped: string[] = [];
  if (sarif.runs && sarif.runs.length > SARIF_MAX_RUNS) {
    dropped.push(`${sarif.runs.length - SARIF_MAX_RUNS} runs beyond GitHub's ${SARIF_MAX_RUNS}`);
    sarif.runs = sarif.runs.slice(0, SARIF_MAX_RUNS);
  }
  for (const run of sarif.runs ?? []) {
    run.automationDetails = { id: `${category}/` };
    if (run.results && run.results.length > SARIF_MAX_RESULTS) {
      dropped.push(
        `${run.results.length - SARIF_MAX_RESULTS} least severe results beyond GitHub's ${SARIF_MAX_RESULTS}`,
      );
      run.results = run.results.slice(0, SARIF_MAX_RESULTS);
    }
  }
  return { text: `${JSON.stringify(sarif, null, 2)}\n`, dropped };
}

export async function uploadSarif(
  api: GithubApi,
  repository: string,
  commitSha: string,
  ref: string,
  sarifText: string,
): Promise<string | undefined> {
  const gzipped = gzipSync(Buffer.from(sarifText));
  if (gzipped.length > SARIF_MAX_GZIPPED) {
    throw new LadingError(
      'LIMIT',
      `SARIF is ${gzipped.length} bytes gzipped, over GitHub's 10 MB limit: narrow it with the severity input`,
    );
  }
  const answer = await api.request<{ id?: string }>('POST', `/repos/${repository}/code-scanning/sarifs`, {
    commit_sha: commitSha,
    ref,
    sarif: gzipped.toString('base64'),
    tool_name: 'lading',
  });
  return answer?.id;
}

/** The most a comment body may hold (GitHub refuses more than 65,536 characters). */
export const COMMENT_MAX_CHARS = 65_000;

/** Cuts a markdown body at a line boundary under the limit, saying so (the full text is in the step summary). */
export function limitMarkdown(text: string, max = COMMENT_MAX_CHARS): string {
  if (text.length <= max) return text;
  const note = '\n\n… truncated: the full comparison is in the job summary.\n';
  const cut = text.lastIndexOf('\n', max - note.length);
  return `${text.slice(0, cut > 0 ? cut : max - note.length)}${note}`;
}

interface Comment {
  id: number;
  body?: string;
}

/**
 * One comment per pull request and category, edited on every run rather than added again: found by its hidden
 * marker. Returns the comment's id.
 */
export async function upsertPullRequestComment(
  api: GithubApi,
  repository: string,
  pullNumber: number,
  marker: string,
  body: string,
): Promise<number> {
  const text = `${marker}\n${limitMarkdown(body)}`;
  for (let page = 1; page <= 20; page++) {
    const comments = await api.request<Comment[]>(
      'GET',
      `/repos/${repository}/issues/${pullNumber}/comments?per_page=100&page=${page}`,
    );
    const mine = comments.find((c) => c.body?.startsWith(marker));
    if (mine) {
      await api.request('PATCH', `/repos/${repository}/issues/comments/${mine.id}`, { body: text });
      return mine.id;
    }
    if (comments.length < 100) break;
  }
  const created = await api.request<Comment>('POST', `/repos/${repository}/issues/${pullNumber}/comments`, {
    body: text,
  });
  return created.id;
}

interface Issue {
  number: number;
  state: 'open' | 'closed';
  closed_at?: string | null;
  body?: string | null;
  pull_request?: unknown;
}

export interface LifecycleFinding {
  id: string;
  severity: string;
  package: string;
  version: string;
  fixedVersion?: string;
}

export interface LifecycleResult {
  action: 'opened' | 'updated' | 'unchanged' | 'reopened' | 'closed' | 'none';
  issue?: number;
}

/** A closed issue reopens when findings return within this long; later, a new issue starts. */
export const REOPEN_WITHIN_MS = 30 * 24 * 3600 * 1000;

const LABEL = 'lading';

/**
 * The issue-per-image lifecycle of teams without a server (seed 003): findings at MEDIUM and above open an issue
 * for the image (found again by a hidden `<!-- lading:image=… -->` marker), a change in them appends a comment
 * naming what is new and what was fixed, none left closes it, and their return within 30 days reopens it.
 */
export async function issueLifecycle(
  api: GithubApi,
  repository: string,
  image: string,
  findings: readonly LifecycleFinding[],
  now: Date,
  runUrl: string | undefined,
  /** The report left packages unchecked: "nothing found" then proves nothing, so no issue is closed. */
  incomplete = false,
): Promise<LifecycleResult> {
  const marker = `<!-- lading:image=${image} -->`;
  const ids = [...new Set(findings.map((f) => f.id))].sort();
  const existing = await findIssue(api, repository, marker);
  const body = issueBody(marker, image, findings, ids, runUrl);
  if (ids.length === 0) {
    if (!existing || existing.state === 'closed' || incomplete) {
      return { action: 'none', ...(existing ? { issue: existing.number } : {}) };
    }
    await api.request('POST', `/repos/${repository}/issues/${existing.number}/comments`, {
      body: `No findings at MEDIUM or above remain in \`${image}\`${runUrl ? ` ([run](${runUrl}))` : ''}: closing.`,
    });
    await api.request('PATCH', `/repos/${repository}/issues/${existing.number}`, {
      state: 'closed',
      state_reason: 'completed',
      body,
    });
    return { action: 'closed', issue: existing.number };
  }
  const recent =
    existing?.state === 'closed' &&
    existing.closed_at &&
    now.getTime() - Date.parse(existing.closed_at) <= REOPEN_WITHIN_MS;
  if (!existing || (existing.state === 'closed' && !recent)) {
    const created = await api.request<Issue>('POST', `/repos/${repository}/issues`, {
      title: `Vulnerabilities in ${image} (${ids.length} at MEDIUM or above)`,
      body,
      labels: [LABEL],
    });
    return { action: 'opened', issue: created.number };
  }
  const before = idsIn(existing.body ?? '');
  const added = ids.filter((id) => !before.includes(id));
  const fixed = before.filter((id) => !ids.includes(id));
  if (existing.state === 'open' && added.length === 0 && fixed.length === 0) {
    return { action: 'unchanged', issue: existing.number };
  }
  const lines = [
    existing.state === 'closed'
      ? `Findings at MEDIUM or above are back in \`${image}\`: reopening.`
      : `\`${image}\` changed.`,
    ...(added.length ? [`New: ${added.join(', ')}`] : []),
    ...(fixed.length ? [`Fixed: ${fixed.join(', ')}`] : []),
    ...(runUrl ? [`[run](${runUrl})`] : []),
  ];
  await api.request('POST', `/repos/${repository}/issues/${existing.number}/comments`, { body: lines.join('\n\n') });
  await api.request('PATCH', `/repos/${repository}/issues/${existing.number}`, {
    body,
    title: `Vulnerabilities in ${image} (${ids.length} at MEDIUM or above)`,
    ...(existing.state === 'closed' ? { state: 'open' } : {}),
  });
  return { action: existing.state === 'closed' ? 'reopened' : 'updated', issue: existing.number };
}

async function findIssue(api: GithubApi, repository: string, marker: string): Promise<Issue | undefined> {
  let best: Issue | undefined;
  for (let page = 1; page <= 20; page++) {
    const issues = await api.request<Issue[]>(
      'GET',
      `/repos/${repository}/issues?state=all&labels=${LABEL}&per_page=100&page=${page}`,
    );
    for (const issue of issues) {
      if (issue.pull_request || !issue.body?.includes(marker)) continue;
      // an open one wins; otherwise the most recently closed
      if (!best || (issue.state === 'open' && best.state !== 'open') || (best.state !== 'open' && newer(issue, best))) {
        best = issue;
      }
    }
    if (issues.length < 100) break;
  }
  return best;
}

function newer(a: Issue, b: Issue): boolean {
  return Date.parse(a.closed_at ?? '') > Date.parse(b.closed_at ?? '');
}

const IDS_MARKER = /<!-- lading:ids=([^>]*) -->/;

function idsIn(body: string): string[] {
  const m = IDS_MARKER.exec(body);
  return m?.[1] ? m[1].split(' ').filter(Boolean) : [];
}

/** The issue's body: the current findings as a table, and the ids as a hidden list the next run compares with. */
function issueBody(
  marker: string,
  image: string,
  findings: readonly LifecycleFinding[],
  ids: readonly string[],
  runUrl: string | undefined,
): string {
  const rows = findings.map(
    (f) =>
      `| ${f.severity} | ${f.id} | ${escapeCell(f.package)} | ${escapeCell(f.version)} | ${escapeCell(f.fixedVersion ?? '')} |`,
  );
  const table = rows.length
    ? ['| severity | id | package | version | fixed in |', '|---|---|---|---|---|', ...rows].join('\n')
    : 'No findings at MEDIUM or above.';
  return limitMarkdown(
    [
      marker,
      `<!-- lading:ids=${ids.join(' ')} -->`,
      `Findings at MEDIUM or above in \`${image}\`, as Lading last scanned it${runUrl ? ` ([run](${runUrl}))` : ''}.`,
      '',
      table,
      '',
    ].join('\n'),
  );
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}
