// The issue-per-image lifecycle (PIPELINE/SERVER designs, section 3): findings at MEDIUM and above open an issue for
// the image (found again by a hidden `<!-- lading:image=… -->` marker, labelled `lading`), a change in them updates
// the body and adds one dated comment, none left closes it with a comment naming the digest and commit that fixed
// them, and their return within 30 days reopens it. The GitHub Action (teams without a server) and the server both
// run this one function.
//
// Idempotent without any local state: the issue is found by its marker, and each comment carries
// `<!-- lading:digest=<digest> set=<hash> -->` and is not posted again when one of the issue's last 5 comments has it,
// so a crash between a POST and whatever the caller records afterwards never double-posts.
import { createHash } from 'node:crypto';
import type { GithubApi } from './client.js';
import { limitMarkdown } from './client.js';

interface Issue {
  number: number;
  state: 'open' | 'closed';
  closed_at?: string | null;
  body?: string | null;
  pull_request?: unknown;
}

interface Comment {
  id: number;
  body?: string | null;
}

export interface LifecycleFinding {
  id: string;
  severity: string;
  package: string;
  version: string;
  fixedVersion?: string;
}

export interface LifecycleInput {
  /** `owner/name` of the GitHub repository holding the issue. */
  readonly repository: string;
  /** What the issue is about: an image name (one issue per image). */
  readonly image: string;
  /** The digest these findings are from (the image name when the caller has none, e.g. a scanned directory). */
  readonly digest?: string;
  /** The source commit of that digest, named when it fixed the findings. */
  readonly commit?: string;
  /** MEDIUM and above, suppressed ones left out by the caller. */
  readonly findings: readonly LifecycleFinding[];
  readonly now: Date;
  readonly runUrl?: string;
  /** The scan left packages unchecked: "nothing found" then proves nothing, so no issue is closed. */
  readonly incomplete?: boolean;
}

export interface LifecycleResult {
  action: 'opened' | 'updated' | 'unchanged' | 'reopened' | 'closed' | 'none';
  issue?: number;
  /** The hash of the finding set (sorted ids), as in the comment markers. */
  setHash: string;
  /** The comment this call posted, or found already posted by an earlier interrupted call. */
  comment?: { id: number; reused: boolean };
}

/** A closed issue reopens when findings return within this long; later, a new issue starts. */
export const REOPEN_WITHIN_MS = 30 * 24 * 3600 * 1000;
export const ISSUE_LABEL = 'lading';
/** How many of an issue's latest comments are searched for a marker before posting. */
const RECENT_COMMENTS = 5;

/** The first 16 hex digits of SHA-256 over the sorted, distinct ids, one a line. */
export function findingSetHash(ids: readonly string[]): string {
  const sorted = [...new Set(ids)].sort();
  return createHash('sha256').update(sorted.join('\n'), 'utf8').digest('hex').slice(0, 16);
}

export function postMarker(digest: string, setHash: string): string {
  return `<!-- lading:digest=${digest} set=${setHash} -->`;
}

export async function issueLifecycle(api: GithubApi, input: LifecycleInput): Promise<LifecycleResult> {
  const { repository, image, findings, runUrl } = input;
  const marker = `<!-- lading:image=${image} -->`;
  const ids = [...new Set(findings.map((f) => f.id))].sort();
  const setHash = findingSetHash(ids);
  const digest = input.digest ?? image;
  const post = postMarker(digest, setHash);
  const date = input.now.toISOString().slice(0, 10);
  const run = runUrl ? ` ([run](${runUrl}))` : '';
  const existing = await findIssue(api, repository, marker);
  const body = issueBody(marker, image, digest, findings, ids, runUrl);
  const title = `Vulnerabilities in ${image} (${ids.length} at MEDIUM or above)`;

  if (ids.length === 0) {
    if (!existing || existing.state === 'closed' || input.incomplete) {
      return { action: 'none', setHash, ...(existing ? { issue: existing.number } : {}) };
    }
    const fixedBy = [`\`${digest}\``, ...(input.commit ? [`commit ${input.commit}`] : [])].join(', ');
    const comment = await commentOnce(
      api,
      repository,
      existing.number,
      post,
      `${date}: No findings at MEDIUM or above remain in \`${image}\` (fixed by ${fixedBy})${run}: closing.`,
    );
    await api.request('PATCH', `/repos/${repository}/issues/${existing.number}`, {
      state: 'closed',
      state_reason: 'completed',
      body,
      title,
    });
    return { action: 'closed', issue: existing.number, setHash, comment };
  }
  const recent =
    existing?.state === 'closed' &&
    existing.closed_at &&
    input.now.getTime() - Date.parse(existing.closed_at) <= REOPEN_WITHIN_MS;
  if (!existing || (existing.state === 'closed' && !recent)) {
    const created = await api.request<Issue>('POST', `/repos/${repository}/issues`, {
      title,
      body,
      labels: [ISSUE_LABEL],
    });
    return { action: 'opened', issue: created.number, setHash };
  }
  const before = idsIn(existing.body ?? '');
  const added = ids.filter((id) => !before.includes(id));
  const fixed = before.filter((id) => !ids.includes(id));
  if (existing.state === 'open' && added.length === 0 && fixed.length === 0) {
    return { action: 'unchanged', issue: existing.number, setHash };
  }
  const lines = [
    existing.state === 'closed'
      ? `${date}: Findings at MEDIUM or above are back in \`${image}\`: reopening.`
      : `${date}: \`${image}\` changed (now \`${digest}\`).`,
    ...(added.length ? [`New: ${added.join(', ')}`] : []),
    ...(fixed.length ? [`Fixed: ${fixed.join(', ')}${input.commit ? ` (commit ${input.commit})` : ''}`] : []),
    ...(runUrl ? [`[run](${runUrl})`] : []),
  ];
  const comment = await commentOnce(api, repository, existing.number, post, lines.join('\n\n'));
  await api.request('PATCH', `/repos/${repository}/issues/${existing.number}`, {
    body,
    title,
    ...(existing.state === 'closed' ? { state: 'open' } : {}),
  });
  return { action: existing.state === 'closed' ? 'reopened' : 'updated', issue: existing.number, setHash, comment };
}

/** Posts `text` + the marker unless one of the issue's last comments already carries the marker. */
async function commentOnce(
  api: GithubApi,
  repository: string,
  issue: number,
  marker: string,
  text: string,
): Promise<{ id: number; reused: boolean }> {
  const recent = await lastComments(api, repository, issue, RECENT_COMMENTS);
  const found = recent.find((c) => c.body?.includes(marker));
  if (found) return { id: found.id, reused: true };
  const made = await api.request<Comment>('POST', `/repos/${repository}/issues/${issue}/comments`, {
    body: limitMarkdown(`${text}\n\n${marker}`, undefined, '\n\n… truncated.\n'),
  });
  return { id: made.id, reused: false };
}

async function lastComments(api: GithubApi, repository: string, issue: number, count: number): Promise<Comment[]> {
  let tail: Comment[] = [];
  // GitHub lists an issue's comments oldest first; the last page holds the newest
  for (let page = 1; page <= 50; page++) {
    const comments = await api.request<Comment[]>(
      'GET',
      `/repos/${repository}/issues/${issue}/comments?per_page=100&page=${page}`,
    );
    tail = [...tail, ...comments].slice(-count);
    if (comments.length < 100) break;
  }
  return tail;
}

async function findIssue(api: GithubApi, repository: string, marker: string): Promise<Issue | undefined> {
  let best: Issue | undefined;
  for (let page = 1; page <= 20; page++) {
    const issues = await api.request<Issue[]>(
      'GET',
      `/repos/${repository}/issues?state=all&labels=${ISSUE_LABEL}&per_page=100&page=${page}`,
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
  digest: string,
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
  const scanned = digest === image ? '' : ` (\`${digest}\`)`;
  return limitMarkdown(
    [
      marker,
      `<!-- lading:ids=${ids.join(' ')} -->`,
      `Findings at MEDIUM or above in \`${image}\`${scanned}, as Lading last scanned it${runUrl ? ` ([run](${runUrl}))` : ''}.`,
      '',
      table,
      '',
    ].join('\n'),
    undefined,
    '\n\n… truncated: the full list is in the Lading report.\n',
  );
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}
