// The HTTP application: Fastify with the API's conventions (problem+json for every error, request ids,
// Server-Timing, security headers, no compressed uploads) and each route module registered explicitly, in order.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerAuthRoutes } from './api/auth.js';
import { registerDashboardRoutes } from './api/dashboard.js';
import { registerExceptionRoutes } from './api/exceptions.js';
import { registerIngestRoutes } from './api/ingest.js';
import { registerJobRoutes } from './api/jobs.js';
import { registerMetricsRoutes } from './api/metrics.js';
import { READ_ROUTE_MODULES } from './api/read.js';
import { registerSystemRoutes } from './api/system.js';
import { registerTokenRoutes } from './api/tokens.js';
import { registerTrustedKeyRoutes } from './api/trusted-keys.js';
import { registerVexRoutes } from './api/vex.js';
import { registerVulndbStatusRoutes } from './api/vulndb-status.js';
import { registerAuth } from './auth/index.js';
import { registerBlobRoutes } from './blobs/routes.js';
import type { ServerContext } from './context.js';
import { registerEventRoutes } from './events/index.js';
import { registerGithubRoutes } from './github/index.js';
import { PROBLEM_MEDIA_TYPE, ProblemError, problemDocument, problemFromError } from './http/problem.js';
import { registerNotificationRuleRoutes } from './notify/index.js';
import { registerVulndataRoutes } from './vulndata/index.js';

import { registerRebuildRoutes, registerWatchRoutes } from './watch/index.js';
/** A route module: registers its routes (and hooks) on the app. Listed in ROUTE_MODULES, never self-registering. */
export type RouteModule = (app: FastifyInstance, ctx: ServerContext) => void | Promise<void>;

/** Every route module, in registration order. A new API area adds one line here. */
export const ROUTE_MODULES: readonly RouteModule[] = [
  registerSystemRoutes,
  registerAuthRoutes,
  registerTokenRoutes,
  registerJobRoutes,
  registerIngestRoutes,
  ...READ_ROUTE_MODULES,
  registerEventRoutes,
  registerVulndataRoutes,
  registerBlobRoutes,
  registerVulndbStatusRoutes,
  registerMetricsRoutes,
  registerNotificationRuleRoutes,
  registerGithubRoutes,
  registerRebuildRoutes,
  registerWatchRoutes,
  registerExceptionRoutes,
  registerTrustedKeyRoutes,
  registerVexRoutes,
  // last: the dashboard's page paths never shadow an API route
  registerDashboardRoutes,
];

export interface BuildAppOptions {
  /** Replaces ROUTE_MODULES (tests of the conventions register their own probes). */
  readonly routes?: readonly RouteModule[];
}

export async function buildApp(ctx: ServerContext, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: ctx.config.jsonBodyLimit,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    return503OnClosing: true,
    // a client that keeps a connection open must not hold a shutdown (or a test) hostage
    forceCloseConnections: true,
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    // No decompression bombs (SERVER.md section 2, "Limits"): an encoded upload is refused before it is read.
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
      throw new ProblemError(415, 'Unsupported Media Type', 'request bodies with Content-Encoding are not accepted', {
        code: 'content_encoding',
      });
    }
  });

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('server-timing', `app;dur=${reply.elapsedTime.toFixed(1)}`);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cross-origin-opener-policy', 'same-origin');
    if (!reply.hasHeader('content-security-policy')) {
      reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'; base-uri 'none'");
    }
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    // method, route and status only: URLs may carry search terms, headers carry credentials
    ctx.log.info('request', {
      id: request.id,
      method: request.method,
      route: request.routeOptions.url ?? '(unmatched)',
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
    });
  });

  app.setErrorHandler((error, request, reply) => {
    const { document, internal } = problemFromError(error, request.id);
    if (internal) {
      ctx.log.error('request failed', {
        id: request.id,
        route: request.routeOptions.url ?? '(unmatched)',
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
    }
    return reply
      .code(document.status)
      .type(PROBLEM_MEDIA_TYPE)
      .send({ ...document, instance: request.url.split('?')[0] });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    return reply
      .code(404)
      .type(PROBLEM_MEDIA_TYPE)
      .send(problemDocument(404, 'Not Found', `no route ${request.method} ${path}`, path, { code: 'no_route' }));
  });

  // who is calling (request.caller) and the rate limits, before any route
  await registerAuth(app, ctx);
  for (const register of options.routes ?? ROUTE_MODULES) await register(app, ctx);
  return app;
}
