// The read API's route modules (scope read), in registration order: app.ts lists them with the others.
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { registerArtifactRoutes } from './artifacts.js';
import { registerDiffRoutes } from './diff.js';
import { registerEventRoutes } from './events.js';
import { registerGateRoutes } from './gates.js';
import { registerImageRoutes } from './images.js';
import { registerPackageRoutes } from './packages.js';
import { registerRepositoryRoutes } from './repositories.js';
import { registerSearchRoutes } from './search.js';
import { registerVulnerabilityRoutes } from './vulnerabilities.js';

export const READ_ROUTE_MODULES: readonly ((app: FastifyInstance, ctx: ServerContext) => void)[] = [
  registerImageRoutes,
  registerArtifactRoutes,
  registerRepositoryRoutes,
  registerEventRoutes,
  registerVulnerabilityRoutes,
  registerPackageRoutes,
  registerSearchRoutes,
  registerDiffRoutes,
  registerGateRoutes,
];
