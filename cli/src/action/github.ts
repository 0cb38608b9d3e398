// The Action's own GitHub calls (SARIF upload, the pull-request comment) over the engine's GitHub client; the
// client and the issue-per-image lifecycle live in `@lading/engine/github`, shared with the server. The base URL is
// GITHUB_API_URL (GHES, and the tests' local replay).
import { gzipSync } from 'node:zlib';
import { LadingError } from '@lading/engine/errors';
import { COMMENT_MAX_CHARS, type GithubApi, githubApi, issueLifecycle, limitMarkdown } from '@lading/engine/github';

export { COMMENT_MAX_CHARS, type GithubApi, githubApi, issueLifecycle, limitMarkdown };

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
