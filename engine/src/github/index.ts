// The public API of github/: what other packages may import as `@lading/engine/github` (the Action and the server).
export { COMMENT_MAX_CHARS, type GithubApi, type GithubApiOptions, githubApi, limitMarkdown } from './client.js';
export {
  findingSetHash,
  ISSUE_LABEL,
  issueLifecycle,
  type LifecycleFinding,
  type LifecycleInput,
  type LifecycleResult,
  postMarker,
  REOPEN_WITHIN_MS,
} from './lifecycle.js';
