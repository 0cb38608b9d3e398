// The server's GitHub API client: the engine's client over an HTTP client whose connections go through the outbound
// address guard (notify/guard.ts), since the base URL is an administrator's setting (GitHub Enterprise Server) and
// must not reach a loopback, private or link-local address (cloud metadata) unless LADING_OUTBOUND_ALLOW_PRIVATE
// allows it. A refused address surfaces as TargetRefused (permanent: the jobs record it and do not retry).
import { type GithubApi, githubApi } from '@lading/engine/github';
import type { ServerContext } from '../context.js';
import { guardedHttpClient } from '../notify/guard.js';
import type { GithubSettings } from './settings.js';

/** One client per job run: its guard keeps the first refusal, which replaces the connection error it caused. */
export function serverGithubApi(ctx: ServerContext, settings: GithubSettings): GithubApi {
  const { http, guard } = guardedHttpClient(ctx.config.outbound.allowPrivate, { userAgent: 'lading-server' });
  const api = githubApi({ apiUrl: settings.apiUrl, token: settings.token, http });
  return {
    async request<T>(...args: Parameters<GithubApi['request']>): Promise<T> {
      try {
        return await api.request<T>(...args);
      } catch (error) {
        throw guard.refusal ?? error;
      }
    },
  };
}
