// GitHub issues per image on the server: the integration's settings, the github.sync job and its routes.
export { registerGithubRoutes } from './routes.js';
export { GITHUB_SETTINGS_KEY, githubRepoOf, loadGithubSettings, saveGithubSettings } from './settings.js';
export { GITHUB_SYNC, githubSyncKey, queueGithubSync, registerGithubJobs, syncRepositoryIssues } from './sync.js';
