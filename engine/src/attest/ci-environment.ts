import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { ResourceDescriptor } from './statement.js';

/** The build-describing facts of one CI run, before they are shaped into a SLSA predicate. */
export interface BuildContext {
  ci: 'github-actions' | 'gitlab-ci' | 'local';
  buildType: string;
  builderId: string;
  invocationId: string;
  externalParameters: Record<string, unknown>;
  internalParameters: Record<string, unknown>;
  source?: ResourceDescriptor;
}

export const GITHUB_BUILD_TYPE = 'https://actions.github.io/buildtypes/workflow/v1';
/** Lading's own build types for CIs without a published one: the shape is BuildContext below, the URI names it. */
export const GITLAB_BUILD_TYPE = 'https://lading.dev/buildtypes/gitlab-ci/v1';
export const LOCAL_BUILD_TYPE = 'https://lading.dev/buildtypes/local/v1';
export const LOCAL_BUILDER_ID = 'https://lading.dev/builders/local/v1';

type Env = Readonly<Record<string, string | undefined>>;

/** Reads the current commit and origin of a git checkout; absent git or checkout gives nothing, not an error. */
export type GitProbe = (cwd: string) => { commit?: string; remote?: string; ref?: string };

export const probeGit: GitProbe = (cwd) => {
  const run = (args: string[]): string | undefined => {
    try {
      return (
        execFileSync('git', args, {
          cwd,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
          timeout: 5000,
        }).trim() || undefined
      );
    } catch {
      return undefined;
    }
  };
  const commit = run(['rev-parse', 'HEAD']);
  const remote = run(['config', '--get', 'remote.origin.url']);
  const ref = run(['symbolic-ref', '-q', 'HEAD']);
  return { ...(commit ? { commit } : {}), ...(remote ? { remote } : {}), ...(ref ? { ref } : {}) };
};

/** Which CI runs us, from its documented variables (GITHUB_ACTIONS=true, GITLAB_CI=true), else the local checkout. */
export function detectBuildContext(env: Env, git: GitProbe = probeGit, cwd = process.cwd()): BuildContext {
  if (env['GITHUB_ACTIONS'] === 'true' && env['GITHUB_REPOSITORY']) return githubContext(env);
  if (env['GITLAB_CI'] === 'true' && env['CI_PROJECT_URL']) return gitlabContext(env);
  return localContext(git(cwd));
}

function githubContext(env: Env): BuildContext {
  const server = (env['GITHUB_SERVER_URL'] ?? 'https://github.com').replace(/\/+$/, '');
  const repository = env['GITHUB_REPOSITORY'] ?? '';
  const repoUrl = `${server}/${repository}`;
  const workflowRef = env['GITHUB_WORKFLOW_REF'] ?? '';
  // owner/repo/.github/workflows/x.yml@refs/heads/main: the ref itself may contain '@', so split at the first one.
  const withoutRepo = workflowRef.startsWith(`${repository}/`) ? workflowRef.slice(repository.length + 1) : workflowRef;
  const at = withoutRepo.indexOf('@');
  const path = at === -1 ? withoutRepo : withoutRepo.slice(0, at);
  const ref = at === -1 ? (env['GITHUB_REF'] ?? '') : withoutRepo.slice(at + 1);
  const github = pick(env, {
    event_name: 'GITHUB_EVENT_NAME',
    repository_id: 'GITHUB_REPOSITORY_ID',
    repository_owner_id: 'GITHUB_REPOSITORY_OWNER_ID',
    runner_environment: 'RUNNER_ENVIRONMENT',
  });
  const sha = env['GITHUB_SHA'];
  return {
    ci: 'github-actions',
    buildType: GITHUB_BUILD_TYPE,
    builderId: `${server}/${workflowRef || repository}`,
    invocationId: `${repoUrl}/actions/runs/${env['GITHUB_RUN_ID'] ?? ''}/attempts/${env['GITHUB_RUN_ATTEMPT'] ?? '1'}`,
    externalParameters: { workflow: { ref, repository: repoUrl, path } },
    internalParameters: { github },
    ...(sha ? { source: { uri: gitUri(repoUrl, env['GITHUB_REF'] || ref), digest: { gitCommit: sha } } } : {}),
  };
}

function gitlabContext(env: Env): BuildContext {
  const projectUrl = (env['CI_PROJECT_URL'] ?? '').replace(/\/+$/, '');
  const server = (env['CI_SERVER_URL'] ?? new URL(projectUrl).origin).replace(/\/+$/, '');
  const refName = env['CI_COMMIT_TAG']
    ? `refs/tags/${env['CI_COMMIT_TAG']}`
    : `refs/heads/${env['CI_COMMIT_REF_NAME'] ?? ''}`;
  const sha = env['CI_COMMIT_SHA'];
  return {
    ci: 'gitlab-ci',
    buildType: GITLAB_BUILD_TYPE,
    builderId: env['CI_RUNNER_ID'] ? `${server}/runners/${env['CI_RUNNER_ID']}` : server,
    invocationId: env['CI_JOB_URL'] ?? `${projectUrl}/-/jobs/${env['CI_JOB_ID'] ?? ''}`,
    externalParameters: {
      source: { repository: projectUrl, ref: refName },
      pipeline: { path: env['CI_CONFIG_PATH'] ?? '.gitlab-ci.yml', source: env['CI_PIPELINE_SOURCE'] ?? '' },
    },
    internalParameters: {
      gitlab: pick(env, {
        pipeline_id: 'CI_PIPELINE_ID',
        pipeline_url: 'CI_PIPELINE_URL',
        job_id: 'CI_JOB_ID',
        job_name: 'CI_JOB_NAME',
        project_id: 'CI_PROJECT_ID',
        runner_id: 'CI_RUNNER_ID',
        server_version: 'CI_SERVER_VERSION',
      }),
    },
    ...(sha ? { source: { uri: gitUri(projectUrl, refName), digest: { gitCommit: sha } } } : {}),
  };
}

function localContext(git: ReturnType<GitProbe>): BuildContext {
  const repoUri = git.remote ? `git+${git.remote}` : undefined;
  return {
    ci: 'local',
    buildType: LOCAL_BUILD_TYPE,
    builderId: LOCAL_BUILDER_ID,
    invocationId: `urn:uuid:${randomUUID()}`,
    externalParameters: {
      source: { ...(git.remote ? { repository: git.remote } : {}), ...(git.ref ? { ref: git.ref } : {}) },
    },
    internalParameters: {},
    ...(git.commit
      ? {
          source: {
            uri: `${repoUri ?? 'git+file:.'}${git.ref ? `@${git.ref}` : ''}`,
            digest: { gitCommit: git.commit },
          },
        }
      : {}),
  };
}

/** SLSA's `git+<repo>@<ref>` source URI; without a known ref, just the repository. */
function gitUri(repository: string, ref: string | undefined): string {
  return ref ? `git+${repository}@${ref}` : `git+${repository}`;
}

function pick(env: Env, names: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, variable] of Object.entries(names)) {
    const value = env[variable];
    if (value !== undefined && value !== '') out[field] = value;
  }
  return out;
}
