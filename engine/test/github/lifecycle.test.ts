// The issue-per-image lifecycle against a local replay of GitHub's REST API (no network), under a GHE-style base
// path: open with the table and the `lading` label, unchanged = no request that writes, a change = one dated comment
// with the digest/set marker and an updated body, clean = a comment naming the fixing digest and commit and a close,
// a return within 30 days reopens, later a new issue; and a comment whose answer was lost is not posted twice.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  findingSetHash,
  githubApi,
  issueLifecycle,
  type LifecycleFinding,
  type LifecycleInput,
} from '../../src/github/index.js';
import { type GithubIssueReplay, startGithubIssueReplay } from '../helpers/github-replay.js';

const REPO = 'acme/api';
const IMAGE = 'ghcr.io/acme/api';
const A: LifecycleFinding = {
  id: 'CVE-2026-0001',
  severity: 'HIGH',
  package: 'openssl',
  version: '3.0.1',
  fixedVersion: '3.0.2',
};
const B: LifecycleFinding = { id: 'CVE-2026-0002', severity: 'MEDIUM', package: 'zlib', version: '1.2.11' };
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 1, 9);

describe('issueLifecycle', () => {
  let replay: GithubIssueReplay;
  let input: (over: Partial<LifecycleInput>) => LifecycleInput;
  const writes = () => replay.requests.filter((r) => r.method !== 'GET').length;

  before(async () => {
    replay = await startGithubIssueReplay('/api/v3');
    input = (over) => ({ repository: REPO, image: IMAGE, findings: [A], now: new Date(T0), ...over });
  });
  after(() => replay.close());

  it('opens, leaves alone, comments once per change, closes with the fixing digest and commit, reopens', async () => {
    const api = githubApi({ apiUrl: replay.url, token: 'ghs_test' });
    const opened = await issueLifecycle(api, input({ digest: 'sha256:aaa' }));
    assert.equal(opened.action, 'opened');
    assert.equal(replay.issues.length, 1);
    const issue = replay.issues[0]!;
    assert.deepEqual(issue.labels, ['lading']);
    assert.match(issue.body, /<!-- lading:image=ghcr\.io\/acme\/api -->/);
    assert.match(issue.body, /\| HIGH \| CVE-2026-0001 \| openssl \| 3\.0\.1 \| 3\.0\.2 \|/);
    assert.ok(replay.requests.every((r) => r.authorization === 'Bearer ghs_test' && r.path.startsWith('/api/v3/')));

    const count = writes();
    const same = await issueLifecycle(api, input({ digest: 'sha256:aaa', now: new Date(T0 + DAY) }));
    assert.equal(same.action, 'unchanged');
    assert.equal(writes(), count, 'nothing written when nothing changed');

    const changed = await issueLifecycle(
      api,
      input({ digest: 'sha256:bbb', findings: [A, B], now: new Date(T0 + 2 * DAY) }),
    );
    assert.equal(changed.action, 'updated');
    assert.equal(issue.comments.length, 1);
    const comment = issue.comments[0]!.body;
    assert.match(comment, /^2026-12-03: /);
    assert.match(comment, /New: CVE-2026-0002/);
    assert.ok(
      comment.includes(`<!-- lading:digest=sha256:bbb set=${findingSetHash(['CVE-2026-0002', 'CVE-2026-0001'])} -->`),
    );
    assert.match(issue.body, /CVE-2026-0002/);
    assert.match(issue.title, /2 at MEDIUM or above/);

    const clean = await issueLifecycle(
      api,
      input({ digest: 'sha256:ccc', commit: '0123abc', findings: [], now: new Date(T0 + 3 * DAY) }),
    );
    assert.equal(clean.action, 'closed');
    assert.equal(issue.state, 'closed');
    assert.match(
      issue.comments.at(-1)!.body,
      /No findings at MEDIUM or above remain .*fixed by `sha256:ccc`, commit 0123abc/,
    );

    const incomplete = await issueLifecycle(api, input({ findings: [], incomplete: true }));
    assert.equal(incomplete.action, 'none');

    const back = await issueLifecycle(api, input({ digest: 'sha256:ddd', now: new Date(T0 + 4 * DAY) }));
    assert.equal(back.action, 'reopened');
    assert.equal(issue.state, 'open');
    assert.match(issue.comments.at(-1)!.body, /back .*reopening[\s\S]*New: CVE-2026-0001/);

    // closed more than 30 days ago: a new issue
    await issueLifecycle(api, input({ findings: [], digest: 'sha256:eee' }));
    issue.closed_at = new Date(T0 - 40 * DAY).toISOString();
    const fresh = await issueLifecycle(api, input({ digest: 'sha256:fff', now: new Date(T0 + 5 * DAY) }));
    assert.equal(fresh.action, 'opened');
    assert.equal(replay.issues.length, 2);
  });

  it('never posts a comment twice when the answer to its POST was lost', async () => {
    const api = githubApi({ apiUrl: replay.url });
    const image = 'ghcr.io/acme/worker';
    await issueLifecycle(api, input({ image, digest: 'sha256:111' }));
    const issue = replay.issues.at(-1)!;
    replay.dropNextResponse('POST', /\/issues\/\d+\/comments$/);
    await assert.rejects(
      issueLifecycle(api, input({ image, digest: 'sha256:222', findings: [A, B] })),
      /GitHub API POST/,
    );
    assert.equal(issue.comments.length, 1, 'the POST landed although its answer was lost');
    const retried = await issueLifecycle(api, input({ image, digest: 'sha256:222', findings: [A, B] }));
    assert.equal(retried.action, 'updated');
    assert.deepEqual(retried.comment, { id: issue.comments[0]!.id, reused: true });
    assert.equal(issue.comments.length, 1, 'no second comment');
    assert.match(issue.body, /CVE-2026-0002/, 'the body was brought up to date');
  });

  it('explains a refusal in one line with the permission to grant', async () => {
    const api = githubApi({ apiUrl: `${replay.url}/nowhere` });
    await assert.rejects(issueLifecycle(api, input({})), (error: Error) => {
      assert.match(
        error.message,
        /HTTP 404: Not Found \(does the token grant the permission\? permissions: issues: write\)/,
      );
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  });
});
