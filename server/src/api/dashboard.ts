// The dashboard's static files (built by the dashboard workspace into server/dist/public): hashed assets cached
// for a year, every other non-API GET answered with index.html so the app's URLs load directly. A strict
// Content-Security-Policy: scripts, styles and connections from this origin only, no inline code, no framing.
// When the dashboard has not been built, the API still works and the pages say how to build it.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ServerContext } from '../context.js';

export const DASHBOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
  "form-action 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const PUBLIC_DIR = fileURLToPath(new URL('../../dist/public/', import.meta.url));
const ASSET_NAME = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.(js|css|svg|png|woff2)$/;
const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  woff2: 'font/woff2',
};

/** A route module (last in ROUTE_MODULES, so every API route wins over the page paths). */
export function registerDashboardRoutes(app: FastifyInstance, _ctx: ServerContext): void {
  registerDashboardFiles(app, PUBLIC_DIR);
}

/** The static files from `dir` (a directory path ending in `/`); tests point it at a build of their own. */
export function registerDashboardFiles(app: FastifyInstance, dir: string): void {
  const sendIndex = async (reply: FastifyReply) => {
    const html = await readFile(`${dir}index.html`).catch(() => undefined);
    reply.header('content-security-policy', DASHBOARD_CSP).header('cache-control', 'no-cache');
    if (!html) {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The dashboard is not built: run `npm run build` in the repository (the API under /api/v1 works).');
    }
    return reply.type('text/html; charset=utf-8').send(html);
  };

  app.get('/assets/:name', async (request, reply) => {
    const { name } = request.params as { name: string };
    const match = ASSET_NAME.exec(name);
    const body = match ? await readFile(`${dir}assets/${name}`).catch(() => undefined) : undefined;
    if (!match || !body) return reply.callNotFound();
    return reply
      .header('content-security-policy', DASHBOARD_CSP)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .type(TYPES[match[1] ?? ''] ?? 'application/octet-stream')
      .send(body);
  });

  // The app's pages: the URL is the app's state, so every page path serves the same document.
  const pages = [
    '/',
    '/login',
    '/images',
    '/images/*',
    '/vulns/*',
    '/repositories',
    '/repositories/*',
    '/trends',
    '/summary',
    '/exceptions',
    '/search',
    '/settings',
  ];
  for (const path of pages) app.get(path, async (_request, reply) => sendIndex(reply));
}
